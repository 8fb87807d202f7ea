using MeshBulkheads.Concurrency.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MeshBulkheads.Concurrency.Tests.Grpc;

/// <summary>Real Kestrel on 127.0.0.1:0 (h2c) with the mesh interceptors in front of <see cref="GatedRenderService"/>.</summary>
public static class InterceptorHost
{
    public static async Task<(WebApplication App, Uri Address)> StartAsync(
        GatedRenderService.Probe probe, Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddSingleton(probe);
        builder.Services.AddGrpc(o => o.AddMeshInterceptors());
        builder.Services.AddBulkheads()
            .AddBulkhead("render", o =>
            {
                o.PermitLimit = 1;
                o.QueueLimit = 1;
                o.MaxQueueTime = TimeSpan.FromMilliseconds(500);
            })
            .MapMethods("/meshbulkheads.render.v1.RenderService/", "render");
        var app = builder.Build();
        app.MapGrpcService<GatedRenderService>();
        await app.StartAsync();
        return (app, new Uri(app.Urls.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal)));
    }
}
