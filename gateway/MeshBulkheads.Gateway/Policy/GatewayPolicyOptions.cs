namespace MeshBulkheads.Gateway.Policy;

/// <summary>
/// The gateway's traffic policy, section <c>Gateway</c>: tier rate limits, route costs and the
/// limit for unauthenticated traffic. Deadlines are not here: the gateway reads <c>Deadlines:*</c>, the
/// services' shape, through the library's <c>DeadlineResolver</c>. Validated at start and on every reload; an invalid reload is
/// logged and counted and the last good policy keeps serving (see <see cref="GatewayPolicyMonitor"/>).
/// </summary>
public sealed class GatewayPolicyOptions
{
    public const string SectionName = "Gateway";

    /// <summary>Route cost when a route has no <see cref="RouteCosts"/> entry.</summary>
    public const int DefaultRouteCost = 1;

    /// <summary>
    /// Rate limits per tier (<c>Gateway:Tiers:&lt;tier&gt;:TokensPerSecond|Burst</c>). Exactly the known
    /// tiers (gold, silver, bronze) must be present, and gold &gt; silver &gt; bronze in rate.
    /// </summary>
    public Dictionary<string, TokenBucketLimit> Tiers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Tokens one call costs, by YARP route id (<c>Gateway:RouteCosts:&lt;route&gt;</c>), e.g. a render
    /// costs more than a balance read. Routes not listed cost <see cref="DefaultRouteCost"/>.
    /// Each cost must be between 1 and the smallest tier burst (a call costing more could never pass).
    /// </summary>
    public Dictionary<string, int> RouteCosts { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The bucket of each client source for calls that fail authentication (<c>Gateway:UnauthenticatedLimit</c>),
    /// checked before they are answered. The default is 20 per second, burst 40, per source.
    /// </summary>
    public TokenBucketLimit UnauthenticatedLimit { get; set; } = new() { TokensPerSecond = 20, Burst = 40 };

    /// <summary>
    /// The most client sources whose <see cref="UnauthenticatedLimit"/> bucket is kept (<c>Gateway:UnauthenticatedSources</c>);
    /// past it the least recently used source is dropped. The default is 10 000 (about 2 MB); 1 to 1 000 000.
    /// </summary>
    public int UnauthenticatedSources { get; set; } = 10_000;

    /// <summary>
    /// Removed: <c>Gateway:Deadlines:&lt;route&gt;</c> became <c>Deadlines:Methods:&lt;method prefix&gt;</c>, the services' shape
    /// (docs/migration.md). Bound only so that a stale setting fails the start instead of being silently ignored.
    /// </summary>
    public Dictionary<string, MeshBulkheads.Concurrency.Deadlines.DeadlineOptions> Deadlines { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The cost of one call on <paramref name="routeId"/>.</summary>
    public int CostOf(string routeId) => RouteCosts.TryGetValue(routeId, out var cost) ? cost : DefaultRouteCost;
}
