using System.Net;
using Grpc.Core;
using MeshBulkheads.Testing.Otlp.Proto.Collector;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MeshBulkheads.Testing.Otlp;

/// <summary>
/// An OTLP/gRPC trace receiver inside the test: a real Kestrel h2c server on 127.0.0.1 (port
/// chosen by the OS) implementing <c>opentelemetry.proto.collector.trace.v1.TraceService/Export</c>.
/// Point child processes at it with <c>OTEL_EXPORTER_OTLP_ENDPOINT=</c><see cref="Endpoint"/> and
/// <c>OTEL_EXPORTER_OTLP_PROTOCOL=grpc</c>; it keeps every span it receives.
/// </summary>
public sealed class OtlpTraceReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SpanStore _store;

    private OtlpTraceReceiver(WebApplication app, SpanStore store, Uri endpoint)
    {
        _app = app;
        _store = store;
        Endpoint = endpoint;
    }

    /// <summary>The receiver's address, e.g. <c>http://127.0.0.1:40123</c>.</summary>
    public Uri Endpoint { get; }

    /// <summary>Every span received so far, in arrival order.</summary>
    public IReadOnlyList<ReceivedSpan> Spans => _store.Snapshot();

    /// <summary>Starts the receiver.</summary>
    public static async Task<OtlpTraceReceiver> StartAsync(CancellationToken cancellationToken = default)
    {
        var store = new SpanStore();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(store);
        var app = builder.Build();
        app.MapGrpcService<TraceExportService>();
        await app.StartAsync(cancellationToken).DefaultTimeout();

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new OtlpTraceReceiver(app, store, new Uri(address));
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds for the spans received so far (checked after
    /// every export) and returns them; throws <see cref="TimeoutException"/> with what did arrive
    /// when it does not within <paramref name="timeout"/>.
    /// </summary>
    public async Task<IReadOnlyList<ReceivedSpan>> WaitForAsync(
        Func<IReadOnlyList<ReceivedSpan>, bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            // Take the signal before the snapshot, so an export in between is not missed.
            var changed = _store.Changed;
            var spans = _store.Snapshot();
            if (condition(spans))
            {
                return spans;
            }

            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException(
                    $"The OTLP receiver did not get the expected spans within {timeout.TotalSeconds:0.#} s. It got {spans.Count}:{Environment.NewLine}"
                    + string.Join(Environment.NewLine, spans));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
    }

    /// <summary>Received spans plus a signal that completes on the next export.</summary>
    internal sealed class SpanStore
    {
        private readonly Lock _lock = new();
        private readonly List<ReceivedSpan> _spans = [];
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Changed
        {
            get
            {
                lock (_lock)
                {
                    return _changed.Task;
                }
            }
        }

        public IReadOnlyList<ReceivedSpan> Snapshot()
        {
            lock (_lock)
            {
                return [.. _spans];
            }
        }

        public void Add(ExportTraceServiceRequest request)
        {
            TaskCompletionSource changed;
            lock (_lock)
            {
                _spans.AddRange(request.ResourceSpans.SelectMany(ReceivedSpan.From));
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            changed.TrySetResult();
        }
    }

    private sealed class TraceExportService(SpanStore store) : TraceService.TraceServiceBase
    {
        public override Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request, ServerCallContext context)
        {
            store.Add(request);
            return Task.FromResult(new ExportTraceServiceResponse());
        }
    }
}
