using MeshBulkheads.Concurrency.Bulkheads;

namespace MeshBulkheads.Concurrency.Rejections;

/// <summary>
/// Which methods are critical, bound from configuration section <c>Criticality</c> in every process, gateway included:
/// <c>Criticality:Methods:&lt;method prefix&gt;</c> = <c>Critical</c> | <c>Sheddable</c> (longest prefix of the resolved
/// method wins), else <c>Criticality:Default</c>.
/// </summary>
/// <remarks>
/// The gateway stamps every call it forwards with its method's value (<c>x-mesh-criticality</c>, overwriting a client's);
/// a service reads the header and uses its own table only for a call without one (a direct caller). The header itself
/// is parsed by <see cref="CriticalityHeader.Read"/> alone.
/// </remarks>
public sealed class CriticalityOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Criticality";

    /// <summary>The criticality of a method without an entry in <see cref="Methods"/>.</summary>
    /// <value>The default value is <see cref="BulkheadCriticality.Critical"/>.</value>
    /// <remarks>
    /// In a service this is what a direct caller (an operator, a test, a health script) gets: shedding those first
    /// would make the one request someone is watching the first to fail. The gateway sets <c>Sheddable</c> and lists
    /// the critical methods (payments' <c>Charge</c>: money moves).
    /// </remarks>
    public BulkheadCriticality Default { get; set; } = BulkheadCriticality.Critical;

    /// <summary>Criticality by method prefix, e.g. <c>/meshbulkheads.payments.v1.PaymentsService/Charge</c>.</summary>
    /// <value>Empty by default.</value>
    public Dictionary<string, BulkheadCriticality> Methods { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The criticality of a resolved method (longest matching prefix, else <see cref="Default"/>).</summary>
    /// <param name="method">The full method name, or null for a call with no resolved method.</param>
    /// <returns>The criticality.</returns>
    public BulkheadCriticality Resolve(string? method)
    {
        if (method is null)
        {
            return Default;
        }

        var best = Default;
        var bestLength = -1;
        foreach (var (prefix, criticality) in Methods)
        {
            if (prefix.Length > bestLength && method.StartsWith(prefix, StringComparison.Ordinal))
            {
                best = criticality;
                bestLength = prefix.Length;
            }
        }

        return best;
    }
}
