using System.Globalization;

namespace MeshBulkheads.Testing.Prometheus;

/// <summary>One element of an instant query's result: the series labels and its value now.</summary>
public sealed record PrometheusSample(IReadOnlyDictionary<string, string> Labels, double Value)
{
    /// <summary>The value of <paramref name="label"/>, or empty when the series has none.</summary>
    public string this[string label] => Labels.TryGetValue(label, out var value) ? value : string.Empty;

    public override string ToString() =>
        "{" + string.Join(", ", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"")) + "} "
        + Value.ToString("G6", CultureInfo.InvariantCulture);
}
