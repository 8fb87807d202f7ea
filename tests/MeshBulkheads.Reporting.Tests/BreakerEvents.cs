using System.Collections.Concurrent;
using Polly.Telemetry;

namespace MeshBulkheads.Reporting.Tests;

/// <summary>
/// One circuit breaker's events (by Polly's <c>strategy.name</c>) as Polly reports them to one host's telemetry listeners.
/// Polly writes every event to the listeners of that host's <see cref="TelemetryOptions"/> synchronously, before it meters
/// it, so the count depends on no process-wide <c>MeterListener</c> (a <c>MetricCollector</c> on the shared "Polly" meter
/// once saw none of a test's events while other hosts started and stopped in the same process). A test's scrape asserts
/// the metric itself.
/// </summary>
internal sealed class BreakerEvents(string strategyName) : TelemetryListener, IDisposable
{
    public const string Opened = "OnCircuitOpened";
    public const string HalfOpened = "OnCircuitHalfOpened";
    public const string Closed = "OnCircuitClosed";

    private readonly ConcurrentQueue<string> _events = new();

    public TelemetryListener Listener => this;

    public int Count(string eventName) => _events.Count(e => e == eventName);

    public override void Write<TResult, TArgs>(in TelemetryEventArguments<TResult, TArgs> args)
    {
        if (args.Source.StrategyName == strategyName)
        {
            _events.Enqueue(args.Event.EventName);
        }
    }

    public void Dispose() => _events.Clear();
}
