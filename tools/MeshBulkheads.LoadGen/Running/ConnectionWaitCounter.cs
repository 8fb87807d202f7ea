using System.Diagnostics.Metrics;

namespace MeshBulkheads.LoadGen.Running;

/// <summary>
/// Counts calls that waited in SocketsHttpHandler's pool for a connection or a free HTTP/2 stream,
/// from the runtime's <c>http.client.request.time_in_queue</c> (System.Net.Http meter), for
/// requests to the gateway's port only (in-process tests host YARP's own clients too).
/// </summary>
internal sealed class ConnectionWaitCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly int _port;
    private long _waited;

    public ConnectionWaitCounter(Uri target)
    {
        _port = target.Port;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "System.Net.Http" && instrument.Name == "http.client.request.time_in_queue")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>(OnMeasurement);
        _listener.Start();
    }

    public long Waited => Interlocked.Read(ref _waited);

    public void Dispose() => _listener.Dispose();

    private void OnMeasurement(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "server.port" && tag.Value is int port && port == _port && seconds > 0)
            {
                Interlocked.Increment(ref _waited);
                return;
            }
        }
    }
}
