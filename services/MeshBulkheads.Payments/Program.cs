using MeshBulkheads.Payments;

await PaymentsApp.Build(args).RunAsync();
