using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;

namespace MeshBulkheads.LoadGen.Running;

/// <summary>
/// Several channels to the gateway, used in turn. One HTTP/2 connection caps the calls in flight at
/// the server's stream limit (Kestrel: 100) and queues the rest invisibly; several connections,
/// each allowed to open more (<see cref="SocketsHttpHandler.EnableMultipleHttp2Connections"/>), keep
/// the wait at the server where the mesh can see and shed it.
/// </summary>
internal sealed class ChannelPool : IDisposable
{
    private readonly GrpcChannel[] _channels;
    private readonly CallInvoker[] _invokers;
    private long _next;

    public ChannelPool(Uri target, int connections, bool multipleHttp2Connections = true, X509Certificate2Collection? roots = null)
    {
        _channels = new GrpcChannel[connections];
        _invokers = new CallInvoker[connections];
        for (var i = 0; i < connections; i++)
        {
            var handler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = multipleHttp2Connections,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                ConnectTimeout = TimeSpan.FromSeconds(5),
            }.Trust(roots);
            _channels[i] = GrpcChannel.ForAddress(target, new GrpcChannelOptions
            {
                HttpHandler = handler,
                DisposeHttpClient = true,
                // Retries are meshload's own (counted, pushback by flag), never the channel's.
                MaxRetryAttempts = null,
            });
            _invokers[i] = _channels[i].CreateCallInvoker();
        }
    }

    public CallInvoker Next() => _invokers[(int)((ulong)Interlocked.Increment(ref _next) % (ulong)_invokers.Length)];

    public void Dispose()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }
}
