using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Deadlines;

/// <summary>Deadline policies by gRPC method, bound from configuration section <c>Deadlines</c>.</summary>
/// <remarks>
/// <c>Deadlines:AllMethods</c> applies unless a key of <c>Deadlines:Methods</c> is a prefix of the full method name
/// (<c>/package.Service/Method</c>); the longest matching prefix wins.
/// </remarks>
public sealed class DeadlinePolicyOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Deadlines";

    /// <summary>The policy for methods without a specific entry.</summary>
    /// <value>Default 5 s, Max 30 s.</value>
    [Required]
    [ValidateObjectMembers]
    public DeadlineOptions AllMethods { get; set; } = new();

    /// <summary>Policies by method prefix, e.g. <c>/meshbulkheads.render.v1.RenderService/Render</c>.</summary>
    /// <value>Empty by default.</value>
    public Dictionary<string, DeadlineOptions> Methods { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Returns the policy for a full method name (longest matching prefix, else <see cref="AllMethods"/>).</summary>
    /// <param name="method">The full method name.</param>
    /// <returns>The policy.</returns>
    public DeadlineOptions Resolve(string method)
    {
        DeadlineOptions? best = null;
        var bestLength = -1;
        foreach (var (prefix, policy) in Methods)
        {
            if (prefix.Length > bestLength && method.StartsWith(prefix, StringComparison.Ordinal))
            {
                best = policy;
                bestLength = prefix.Length;
            }
        }

        return best ?? AllMethods;
    }
}
