using System.Globalization;
using System.Text;

namespace MeshBulkheads.LoadGen.Scraping;

/// <summary>One sample of a Prometheus text exposition: name, labels, value.</summary>
internal sealed record PromSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Label(string name) => Labels.TryGetValue(name, out var value) ? value : string.Empty;
}

/// <summary>A small reader of the Prometheus text format (what every process's admin <c>/metrics</c> serves).</summary>
internal static class PrometheusText
{
    public static List<PromSample> Parse(string text, Func<string, bool>? keep = null)
    {
        var samples = new List<PromSample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var nameEnd = line.IndexOfAny(['{', ' ']);
            if (nameEnd <= 0)
            {
                continue;
            }

            var name = line[..nameEnd];
            if (keep is not null && !keep(name))
            {
                continue;
            }

            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            var position = nameEnd;
            if (line[position] == '{')
            {
                position = ParseLabels(line, position + 1, labels);
                if (position < 0)
                {
                    continue;
                }
            }

            var rest = line[position..].Trim();
            var valueText = rest.Split(' ', 2)[0];
            var value = valueText switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN,
            };
            samples.Add(new PromSample(name, labels, value));
        }

        return samples;
    }

    private static int ParseLabels(string line, int position, Dictionary<string, string> labels)
    {
        while (position < line.Length)
        {
            while (position < line.Length && line[position] is ' ' or ',')
            {
                position++;
            }

            if (position < line.Length && line[position] == '}')
            {
                return position + 1;
            }

            var equals = line.IndexOf('=', position);
            if (equals < 0 || equals + 1 >= line.Length || line[equals + 1] != '"')
            {
                return -1;
            }

            var key = line[position..equals].Trim();
            var value = new StringBuilder();
            var i = equals + 2;
            for (; i < line.Length && line[i] != '"'; i++)
            {
                if (line[i] == '\\' && i + 1 < line.Length)
                {
                    i++;
                    value.Append(line[i] == 'n' ? '\n' : line[i]);
                }
                else
                {
                    value.Append(line[i]);
                }
            }

            labels[key] = value.ToString();
            position = i + 1;
        }

        return -1;
    }
}
