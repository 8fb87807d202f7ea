using Grpc.Net.Client;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Contracts.Render.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace MeshBulkheads.Concurrency.Tests.Grpc;

/// <summary>
/// Real Kestrel on 127.0.0.1:0 (h2c, <see cref="H2cHost"/>) with the mesh interceptors in front of <see cref="GatedRenderService"/>
/// (bulkhead <c>render</c>: one permit, a queue of one, 500 ms), with a client for it.
/// </summary>
public sealed class InterceptorHost : IAsyncDisposable
{
    private readonly H2cHost _host;
    private readonly GrpcChannel _channel;

    private InterceptorHost(H2cHost host, GatedRenderService.Probe probe, GrpcChannelOptions? channelOptions)
    {
        _host = host;
        Probe = probe;
        _channel = GrpcChannel.ForAddress(host.Address, channelOptions ?? new GrpcChannelOptions());
        Client = new RenderService.RenderServiceClient(_channel);
        Bulkhead = host.Services.GetRequiredService<IBulkheadProvider>().Get("render");
    }

    public IServiceProvider Services => _host.Services;

    /// <summary>The h2c address, for raw calls (<see cref="RawGrpcCall"/>).</summary>
    public Uri Address => _host.Address;

    /// <summary>What the handler saw; its gate holds calls with width 1.</summary>
    public GatedRenderService.Probe Probe { get; }

    public RenderService.RenderServiceClient Client { get; }

    /// <summary>The <c>render</c> bulkhead the interceptor gates the service with.</summary>
    public Bulkhead Bulkhead { get; }

    public static async Task<InterceptorHost> StartAsync(
        Dictionary<string, string?> settings, TimeProvider? timeProvider = null, GrpcChannelOptions? channelOptions = null, Action<WebApplicationBuilder>? configure = null)
    {
        var probe = new GatedRenderService.Probe();
        var host = await H2cHost.StartAsync(
            builder =>
            {
                builder.Configuration.AddInMemoryCollection(settings);
                builder.Services.AddSingleton(probe);
                if (timeProvider is not null)
                {
                    builder.Services.AddSingleton(timeProvider);
                }

                // The library's two interceptors in the order ServiceDefaults' MeshInterceptors declares (this project does not
                // reference ServiceDefaults; the metrics interceptor, outermost there, is not under test here).
                builder.Services.AddGrpc(o =>
                {
                    o.Interceptors.Add<MeshBulkheads.Concurrency.Deadlines.DeadlineInterceptor>();
                    o.Interceptors.Add<BulkheadInterceptor>();
                });
                builder.Services.AddBulkheads()
                    .AddBulkhead("render", o =>
                    {
                        o.PermitLimit = 1;
                        o.QueueLimit = 1;
                        o.MaxQueueTime = TimeSpan.FromMilliseconds(500);
                    })
                    .MapMethods("/meshbulkheads.render.v1.RenderService/", "render");
                configure?.Invoke(builder);
            },
            app => app.MapGrpcService<GatedRenderService>());
        return new InterceptorHost(host, probe, channelOptions);
    }

    /// <summary>Starts a render that holds the one permit inside the handler until <c>Probe.Gate</c> opens.</summary>
    public async Task<AsyncUnaryCall<RenderResponse>> HoldPermitAsync()
    {
        var held = Client.RenderAsync(new RenderRequest { Width = 1 }, deadline: DateTime.UtcNow.AddSeconds(10));
        await Probe.FirstStarted.Task.DefaultTimeout();
        return held;
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _host.DisposeAsync();
    }
}
