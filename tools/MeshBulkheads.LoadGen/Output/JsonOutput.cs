using System.Text.Json;
using System.Text.Json.Serialization;
using MeshBulkheads.LoadGen.Running;

namespace MeshBulkheads.LoadGen.Output;

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RunResult))]
[JsonSerializable(typeof(List<RunResult>))]
internal sealed partial class LoadGenJsonContext : JsonSerializerContext;

internal static class JsonOutput
{
    public static string Serialize(RunResult result) => JsonSerializer.Serialize(result, LoadGenJsonContext.Default.RunResult);

    public static string Serialize(List<RunResult> results) => JsonSerializer.Serialize(results, LoadGenJsonContext.Default.ListRunResult);
}
