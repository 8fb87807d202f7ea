using MeshBulkheads.Gateway;

await GatewayApp.Build(args).RunAsync();
