namespace MeshBulkheads.ServiceDefaults.Health;

/// <summary>
/// Whether this process should receive traffic. Not ready until start-up warm-up has finished and
/// again as soon as a stop is requested; never merely because the process is busy (that would only
/// move load onto the other replicas).
/// </summary>
public sealed class ReadinessState
{
    private volatile string _reason = "starting";
    private volatile bool _ready;

    public bool IsReady => _ready;

    public string Reason => _reason;

    public void MarkReady()
    {
        _reason = "ready";
        _ready = true;
    }

    public void MarkNotReady(string reason)
    {
        _reason = reason;
        _ready = false;
    }
}
