using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;

namespace MeshBulkheads.Gateway.Tests.Fakes;

/// <summary>
/// One fake gRPC service on a real Kestrel h2c port (127.0.0.1:0) that records what the gateway
/// forwarded and answers through an optional hook (and <c>GET /readyz</c>, <see cref="H2cBackend"/>).
/// </summary>
public sealed class FakeBackend : H2cBackend
{
    private FakeBackend()
    {
    }

    /// <summary>Every call received, in order.</summary>
    public ConcurrentQueue<RecordedCall> Calls { get; } = new();

    /// <summary>Runs before the fake answers: may throw an <see cref="RpcException"/> or wait.</summary>
    public Func<RecordedCall, ServerCallContext, Task>? OnCall { get; set; }

    public static async Task<FakeBackend> StartAsync<TService>()
        where TService : class
    {
        var backend = new FakeBackend();
        var holder = new Holder { Backend = backend };
        await backend.StartHostAsync(
            services => services.AddGrpc().Services.AddSingleton(holder),
            app => app.MapGrpcService<TService>());
        return backend;
    }

    /// <summary>Records the call and runs <see cref="OnCall"/>; the fake services call this first.</summary>
    internal async Task RecordAsync(string method, IMessage request, ServerCallContext context)
    {
        var grpcTimeout = context.GetHttpContext().Request.Headers["grpc-timeout"];
        var call = new RecordedCall(method, request, [.. context.RequestHeaders], grpcTimeout.Count == 0 ? null : grpcTimeout.ToString());
        Calls.Enqueue(call);
        if (OnCall is { } hook)
        {
            await hook(call, context);
        }
    }

    /// <summary>The calls whose request equals <paramref name="request"/> (tests use unique ids).</summary>
    public IReadOnlyList<RecordedCall> CallsFor(IMessage request) => [.. Calls.Where(c => c.Request.Equals(request))];

    /// <summary>Lets the DI-activated fake services find their backend.</summary>
    internal sealed class Holder
    {
        public FakeBackend Backend { get; set; } = null!;
    }
}
