using System.Globalization;
using MeshBulkheads.LoadGen.Cli;
using MeshBulkheads.LoadGen.Streams;
using MeshBulkheads.LoadGen.Thresholds;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MeshBulkheads.LoadGen.Scenarios;

/// <summary>
/// A scenario file, YAML or JSON (JSON is read as YAML's flow style):
/// <code>
/// duration: 10s
/// connections: 4
/// streams:
///   - { name: payments, key: gold, method: GetBalance, rate: 100, deadline: 2s }
/// thresholds: [ "payments:ok>=99%" ]
/// </code>
/// </summary>
internal sealed record ScenarioFile(
    IReadOnlyList<StreamSpec> Streams,
    TimeSpan? Duration,
    int? Connections,
    int? MaxAttempts,
    string? Pushback,
    IReadOnlyList<Threshold> Thresholds)
{
    public static ScenarioFile Load(string path, TenantKeys keys)
    {
        if (!File.Exists(path))
        {
            throw new BadInputException($"scenario file '{path}' does not exist");
        }

        return Parse(File.ReadAllText(path), keys, path);
    }

    public static ScenarioFile Parse(string text, TenantKeys keys, string where)
    {
        var yaml = new YamlStream();
        try
        {
            yaml.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new BadInputException($"{where}: not YAML or JSON ({ex.Start.Line}:{ex.Start.Column}: {ex.Message})");
        }

        if (yaml.Documents.Count != 1 || yaml.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new BadInputException($"{where}: expected one mapping with streams: [...]");
        }

        var streams = new List<StreamSpec>();
        var thresholds = new List<Threshold>();
        TimeSpan? duration = null;
        int? connections = null;
        int? attempts = null;
        string? pushback = null;
        foreach (var (keyNode, value) in root.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? string.Empty;
            switch (key)
            {
                case "duration":
                    duration = DurationText.Parse(Scalar(value, where, key), $"{where}: duration");
                    break;
                case "connections":
                    connections = CommandLine.ParseInt(Scalar(value, where, key), $"{where}: connections", 1, 256);
                    break;
                case "attempts":
                    attempts = CommandLine.ParseInt(Scalar(value, where, key), $"{where}: attempts", 1, 10);
                    break;
                case "pushback":
                    pushback = Scalar(value, where, key);
                    break;
                case "streams" when value is YamlSequenceNode list:
                    for (var i = 0; i < list.Children.Count; i++)
                    {
                        if (list.Children[i] is not YamlMappingNode map)
                        {
                            throw new BadInputException($"{where}: streams[{i}] must be a mapping");
                        }

                        var fields = map.Children.ToDictionary(
                            kv => ((YamlScalarNode)kv.Key).Value ?? string.Empty,
                            kv => Scalar(kv.Value, where, $"streams[{i}]"),
                            StringComparer.OrdinalIgnoreCase);
                        streams.Add(CommandLine.FromFields(fields, keys, $"{where}: streams[{i.ToString(CultureInfo.InvariantCulture)}]"));
                    }

                    break;
                case "thresholds" when value is YamlSequenceNode list:
                    thresholds.AddRange(list.Children.Select(t => Threshold.Parse(Scalar(t, where, key))));
                    break;
                default:
                    throw new BadInputException($"{where}: unknown key '{key}' (duration connections attempts pushback streams thresholds)");
            }
        }

        if (streams.Count == 0)
        {
            throw new BadInputException($"{where}: no streams");
        }

        return new ScenarioFile(streams, duration, connections, attempts, pushback, thresholds);
    }

    private static string Scalar(YamlNode node, string where, string key) =>
        node is YamlScalarNode { Value: { } value } ? value : throw new BadInputException($"{where}: {key} must be a single value");
}
