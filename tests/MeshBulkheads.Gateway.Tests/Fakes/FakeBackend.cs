using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MeshBulkheads.Testing;

namespace MeshBulkheads.Gateway.Tests.Fakes;

/// <summary>
/// One fake gRPC service on a real Kestrel h2c port (127.0.0.1:0) that records what the gateway
/// forwarded and answers through an optional hook. Also maps <c>GET /readyz</c> for YARP's probes.
/// </summary>
public sealed class FakeBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeBackend(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>The backend's h2c address, e.g. http://127.0.0.1:41234.</summary>
    public Uri Address { get; }

    /// <summary>Every call received, in order.</summary>
    public ConcurrentQueue<RecordedCall> Calls { get; } = new();

    /// <summary>Runs before the fake answers: may throw an <see cref="RpcException"/> or wait.</summary>
    public Func<RecordedCall, ServerCallContext, Task>? OnCall { get; set; }

    public static async Task<FakeBackend> StartAsync<TService>()
        where TService : class
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        var holder = new Holder();
        builder.Services.AddSingleton(holder);
        var app = builder.Build();
        app.MapGrpcService<TService>();
        app.MapGet("/readyz", () => "ready");
        await app.StartAsync().DefaultTimeout();

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var backend = new FakeBackend(app, new Uri(address));
        holder.Backend = backend;
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

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
    }

    /// <summary>Lets the DI-activated fake services find their backend.</summary>
    internal sealed class Holder
    {
        public FakeBackend Backend { get; set; } = null!;
    }
}
