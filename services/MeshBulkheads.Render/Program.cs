using MeshBulkheads.Render;

await RenderApp.Build(args).RunAsync();
