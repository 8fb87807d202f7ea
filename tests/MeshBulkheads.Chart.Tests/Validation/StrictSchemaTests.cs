using k8s;
using MeshBulkheads.Chart.Tests.Infrastructure;
using MeshBulkheads.Chart.Tests.Rendering;
using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Chart.Tests.Validation;

/// <summary>
/// Every rendered object checked twice: unknown fields by KubernetesClient's strict loading
/// (LoadAllFromString with strict: true; the file helpers ignore strict), and types, required fields,
/// enums and quantities by kubernetes-models' validate(), which misses unknown fields.
/// </summary>
public sealed class StrictSchemaTests(ChartRenders renders)
{
    [Theory]
    [MemberData(nameof(RenderCases.ProfilesAndVersions), MemberType = typeof(RenderCases))]
    public async Task StrictLoad_EveryBuiltInObject_HasNoUnknownField(string profile, string kubeVersion)
    {
        // Arrange
        var render = await renders.GetAsync(profile, kubeVersion);

        // Act: CRDs (KEDA) are not in KubernetesClient's type map; kubernetes-models checks them.
        var failures = new List<string>();
        foreach (var o in render.Objects.Where(o => o.IsBuiltIn))
        {
            try
            {
                var loaded = KubernetesYaml.LoadAllFromString(o.Text, null, strict: true);
                if (loaded.Count != 1)
                {
                    failures.Add($"{o}: loaded {loaded.Count} objects");
                }
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                failures.Add($"{o}: {e.GetType().Name}: {e.Message}");
            }
        }

        // Assert
        render.AssertNoFailures(failures);
    }

    [Fact]
    public void StrictLoad_MisspelledField_IsRejected()
    {
        // Arrange: the check itself must be able to fail (the file helpers silently ignore strict).
        const string yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicaz: 2\n  selector: {}\n  template: {}\n";

        // Act
        var error = Record.Exception(() => KubernetesYaml.LoadAllFromString(yaml, null, strict: true));

        // Assert
        Assert.NotNull(error);
        Assert.Contains("replicaz", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(RenderCases.ProfilesAndVersions), MemberType = typeof(RenderCases))]
    public async Task KubernetesModels_EveryObject_Validates(string profile, string kubeVersion)
    {
        // Arrange
        var render = await renders.GetAsync(profile, kubeVersion);
        Assert.True(render.Result.Succeeded, render.Result.ToString());

        // Act
        var results = await renders.ModelValidationAsync(render);

        // Assert
        Assert.Equal(render.Objects.Count, results.Count);
        var failures = results.Where(r => r.Error is not null).Select(r => $"{r.Kind}/{r.Name}: {r.Error}").ToList();
        render.AssertNoFailures(failures);
    }

    [Fact]
    public async Task KubernetesModels_BadQuantityAndKedaNumber_AreRejected()
    {
        // Arrange: the validator must be able to fail: a CPU limit that is no quantity, and a KEDA
        // trigger threshold that is a number (KEDA wants strings).
        var node = ChartLayout.RequireNode();
        var file = Path.Combine(Directory.CreateTempSubdirectory("meshbulkheads-models-").FullName, "bad.yaml");
        await File.WriteAllTextAsync(file, """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: x}
            spec:
              selector: {matchLabels: {a: b}}
              template:
                metadata: {labels: {a: b}}
                spec:
                  containers: [{name: c, image: i, resources: {limits: {cpu: lots}}}]
            ---
            apiVersion: keda.sh/v1alpha1
            kind: ScaledObject
            metadata: {name: x}
            spec:
              scaleTargetRef: {name: x}
              triggers: [{type: prometheus, metadata: {threshold: 3}}]
            """, TestContext.Current.CancellationToken);

        // Act
        var result = await Tool.RunAsync(node, [Path.Combine(ChartLayout.NodeDirectory, "validate.mjs"), file], ChartLayout.NodeDirectory, cancellationToken: TestContext.Current.CancellationToken);

        // Assert
        Assert.True(result.Succeeded, result.ToString());
        Assert.Contains("must match format \\\"quantity\\\"", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("threshold must be string", result.StandardOutput, StringComparison.Ordinal);
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
    }
}
