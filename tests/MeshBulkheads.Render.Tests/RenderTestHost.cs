using MeshBulkheads.Contracts.Render.V1;

namespace MeshBulkheads.Render.Tests;

/// <summary>A real render host on Kestrel with a recording observer, and a client for it.</summary>
internal sealed class RenderTestHost : IAsyncDisposable
{
    public static readonly RenderRequest Small = new() { Width = 32, Height = 32, Iterations = 20 };

    private RenderTestHost(KestrelHost host)
    {
        Host = host;
        Client = new RenderService.RenderServiceClient(host.CreateChannel());
    }

    public KestrelHost Host { get; }

    public RenderService.RenderServiceClient Client { get; }

    public RenderDispatcher Dispatcher => Host.Services.GetRequiredService<RenderDispatcher>();

    public static async Task<RenderTestHost> StartAsync(
        RecordingRenderObserver observer,
        Dictionary<string, string?> configuration,
        TimeProvider? timeProvider = null) =>
        new(await KestrelHost.StartAsync(RenderApp.Build, configuration, b =>
        {
            b.Services.AddSingleton<IRenderJobObserver>(observer);
            if (timeProvider is not null)
            {
                b.Services.AddSingleton(timeProvider);
            }
        }));

    /// <summary>Sends a small render, cancelled with the test unless <paramref name="cancellationToken"/> is given.</summary>
    public AsyncUnaryCall<RenderResponse> Render(CancellationToken? cancellationToken = null, DateTime? deadline = null) =>
        Client.RenderAsync(Small, deadline: deadline, cancellationToken: cancellationToken ?? TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}
