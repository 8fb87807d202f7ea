using System.Globalization;

namespace MeshBulkheads.Chaos.Local;

/// <summary>A scrape of a host's <c>/metrics</c> (Prometheus text), read by series name and label values.</summary>
internal sealed class MetricsText(string text)
{
    public bool IsEmpty => text.Length == 0;

    /// <summary>The sum over the series named <paramref name="name"/> whose labels include every <paramref name="labels"/> pair.</summary>
    public double Sum(string name, params (string Label, string Value)[] labels) => Values(name, labels).Sum();

    /// <summary>The largest value of the matching series, or null when none matches.</summary>
    public double? Max(string name, params (string Label, string Value)[] labels) => Values(name, labels).Select(v => (double?)v).Max();

    /// <summary>The values of the matching series.</summary>
    public IEnumerable<double> Values(string name, params (string Label, string Value)[] labels)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#' || !line.StartsWith(name, StringComparison.Ordinal))
            {
                continue;
            }

            var rest = line[name.Length..];
            if (rest.Length == 0 || (rest[0] != '{' && rest[0] != ' '))
            {
                continue;
            }

            var labelText = rest[0] == '{' ? rest[..(rest.IndexOf('}', StringComparison.Ordinal) + 1)] : string.Empty;
            if (!labels.All(l => labelText.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal)))
            {
                continue;
            }

            var valueText = rest[labelText.Length..].Trim().Split(' ')[0];
            if (double.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                yield return value;
            }
        }
    }
}
