namespace MeshBulkheads.ServiceDefaults.Telemetry;

/// <summary>Telemetry conventions shared by every process.</summary>
public static class MeshTelemetry
{
    /// <summary>Every MeshBulkheads meter and activity source starts with this prefix.</summary>
    public const string Prefix = "MeshBulkheads";

    /// <summary>
    /// Bucket bounds for histograms in seconds, about 0.5 ms to 10 s. OpenTelemetry's defaults are
    /// made for milliseconds and would put every request in the first bucket.
    /// </summary>
    public static IReadOnlyList<double> SecondsBuckets { get; } =
    [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ];
}
