using MeshBulkheads.Reporting;

await ReportingApp.Build(args).RunAsync();
