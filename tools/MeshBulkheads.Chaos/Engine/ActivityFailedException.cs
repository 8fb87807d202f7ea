namespace MeshBulkheads.Chaos.Engine;

/// <summary>An action of the method could not be carried out (the journal's status becomes <c>failed</c>).</summary>
internal sealed class ActivityFailedException(string activity, Exception? inner = null)
    : Exception($"activity '{activity}' failed" + (inner is null ? string.Empty : ": " + inner.Message), inner)
{
    public string Activity { get; } = activity;
}
