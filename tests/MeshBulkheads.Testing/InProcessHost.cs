using Microsoft.AspNetCore.Builder;

namespace MeshBulkheads.Testing;

/// <summary>
/// What <see cref="KestrelHost"/> and <see cref="H2cHost"/> share: a started app in the test process,
/// stopped (bounded) and disposed with the host.
/// </summary>
public abstract class InProcessHost(WebApplication app) : IAsyncDisposable
{
    public WebApplication App { get; } = app;

    public IServiceProvider Services => App.Services;

    public virtual async ValueTask DisposeAsync()
    {
        await App.StopAsync().DefaultTimeout();
        await App.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
