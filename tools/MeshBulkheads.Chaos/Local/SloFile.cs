using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace MeshBulkheads.Chaos.Local;

/// <summary>One objective of <c>slo.yaml</c> (the single source of the numbers).</summary>
internal sealed class Slo
{
    public string Name { get; set; } = string.Empty;

    public string Route { get; set; } = string.Empty;

    public double SuccessRatio { get; set; }

    public double LatencyP99Seconds { get; set; }
}

/// <summary><c>slo.yaml</c>, read for the experiments whose hypothesis is "the other routes stay within their SLOs".</summary>
internal sealed class SloFile
{
    public List<Slo> Slos { get; set; } = [];

    public static SloFile Load(string root)
    {
        var yaml = File.ReadAllText(Path.Combine(root, "slo.yaml"));
        return new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).IgnoreUnmatchedProperties().Build().Deserialize<SloFile>(yaml);
    }

    /// <summary>The objective of a method (<c>Charge</c>, <c>GetBalance</c>, …) by the last segment of its route.</summary>
    public Slo For(string method) =>
        Slos.FirstOrDefault(s => s.Route.EndsWith("/" + method, StringComparison.Ordinal))
        ?? throw new InvalidOperationException($"slo.yaml has no objective for {method}");
}
