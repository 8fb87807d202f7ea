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
    /// <remarks>
    /// The one bucket definition: <c>AddServiceDefaults</c> applies it through a metrics view to every
    /// histogram with unit <c>s</c> (ours, ASP.NET Core's, HttpClient's). Instruments carry no bucket
    /// advice of their own: a view wins over advice, so advice would be dead code that drifts.
    /// </remarks>
    internal static IReadOnlyList<double> SecondsBuckets { get; } =
    [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ];

    /// <summary>The <see cref="HttpRequestMessage.Options"/> key that marks a health probe.</summary>
    public static readonly HttpRequestOptionsKey<bool> HealthProbeOption = new("MeshBulkheads.HealthProbe");

    /// <summary>
    /// Marks <paramref name="request"/> as a health probe: the HttpClient instrumentation records no
    /// span for it (an idle mesh exports no traces). The gateway marks YARP's active health probes.
    /// </summary>
    public static HttpRequestMessage MarkHealthProbe(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Options.Set(HealthProbeOption, true);
        return request;
    }

    /// <summary>Whether <paramref name="request"/> was marked by <see cref="MarkHealthProbe"/>.</summary>
    public static bool IsHealthProbe(HttpRequestMessage request) =>
        request.Options.TryGetValue(HealthProbeOption, out var probe) && probe;
}
