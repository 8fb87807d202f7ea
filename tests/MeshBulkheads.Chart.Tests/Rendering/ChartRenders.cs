using System.Collections.Concurrent;
using System.Text.Json;
using MeshBulkheads.Chart.Tests.Infrastructure;
using MeshBulkheads.Chart.Tests.Rendering;
using MeshBulkheads.Testing.Processes;

[assembly: AssemblyFixture(typeof(ChartRenders))]

namespace MeshBulkheads.Chart.Tests.Rendering;

/// <summary>The result of kubernetes-models' <c>validate()</c> for one rendered object (node/validate.mjs).</summary>
internal sealed record ModelValidation(string File, int Index, string? ApiVersion, string? Kind, string? Name, string? Error);

/// <summary>
/// Every profile × Kubernetes version rendered once for the whole test assembly (≈ 50 ms each, in
/// parallel), and kubernetes-models run once over all of them in a single node process.
/// </summary>
public sealed class ChartRenders
{
    private static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);
    private readonly ConcurrentDictionary<(string Profile, string KubeVersion), Lazy<Task<ChartRender>>> _renders = new();
    private readonly Lazy<Task<IReadOnlyDictionary<ChartRender, IReadOnlyList<ModelValidation>>>> _models;

    public ChartRenders()
    {
        _models = new(ValidateWithModelsAsync);
    }

    internal Task<ChartRender> GetAsync(string profile, string kubeVersion) =>
        _renders.GetOrAdd((profile, kubeVersion), key => new(() => RenderAsync(key.Profile, key.KubeVersion))).Value;

    /// <summary>The default profile at Helm's default Kubernetes version.</summary>
    internal Task<ChartRender> DefaultAsync() => GetAsync(ChartLayout.DefaultProfile, ChartLayout.KubeVersions[^1]);

    internal async Task<IReadOnlyList<ChartRender>> AllAsync() =>
        await Task.WhenAll(ChartLayout.Profiles.SelectMany(p => ChartLayout.KubeVersions.Select(v => GetAsync(p, v))));

    /// <summary>kubernetes-models' verdict on every object of <paramref name="render"/>.</summary>
    internal async Task<IReadOnlyList<ModelValidation>> ModelValidationAsync(ChartRender render) =>
        (await _models.Value).TryGetValue(render, out var results) ? results : [];

    private static async Task<ChartRender> RenderAsync(string profile, string kubeVersion)
    {
        var values = ChartLayout.ValuesFile(profile);
        var result = await Helm.TemplateAsync(kubeVersion, values is null ? null : [values]);
        return new ChartRender(profile, kubeVersion, result);
    }

    private async Task<IReadOnlyDictionary<ChartRender, IReadOnlyList<ModelValidation>>> ValidateWithModelsAsync()
    {
        var node = ChartLayout.RequireNode();
        var renders = (await AllAsync()).Where(r => r.Result.Succeeded).ToList();
        var dir = Directory.CreateTempSubdirectory("meshbulkheads-chart-models-");
        try
        {
            var files = new Dictionary<string, ChartRender>(StringComparer.Ordinal);
            foreach (var render in renders)
            {
                var file = Path.Combine(dir.FullName, $"{render.Profile}-{render.KubeVersion}.yaml");
                await File.WriteAllTextAsync(file, render.Manifest);
                files[file] = render;
            }

            var result = await Tool.RunAsync(node, new[] { Path.Combine(ChartLayout.NodeDirectory, "validate.mjs") }.Concat(files.Keys), ChartLayout.NodeDirectory, TimeSpan.FromSeconds(60));
            Assert.True(result.Succeeded, result.ToString());
            var all = JsonSerializer.Deserialize<List<ModelValidation>>(result.StandardOutput, WebJson)
                ?? throw new InvalidOperationException("validate.mjs printed no results.");
            return files.ToDictionary(
                f => f.Value,
                f => (IReadOnlyList<ModelValidation>)all.Where(v => v.File == f.Key).ToList());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

/// <summary>Theory data: every profile × Kubernetes version, and every profile.</summary>
public static class RenderCases
{
    public static TheoryData<string, string> ProfilesAndVersions()
    {
        var data = new TheoryData<string, string>();
        foreach (var profile in ChartLayout.Profiles)
        {
            foreach (var version in ChartLayout.KubeVersions)
            {
                data.Add(profile, version);
            }
        }

        return data;
    }

    public static TheoryData<string> Profiles() => [.. ChartLayout.Profiles];
}
