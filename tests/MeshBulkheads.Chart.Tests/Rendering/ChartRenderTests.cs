using MeshBulkheads.Chart.Tests.Infrastructure;

namespace MeshBulkheads.Chart.Tests.Rendering;

/// <summary><c>helm lint</c> and <c>helm template</c> of every profile at both Kubernetes versions.</summary>
public sealed class ChartRenderTests(ChartRenders renders)
{
    [Fact]
    public async Task Lint_ChartDefaults_PassesStrict()
    {
        // Act
        var result = await Helm.RunAsync(["lint", ChartLayout.ChartDirectory, "--strict", "--kube-version", ChartLayout.KubeVersions[^1]], TestContext.Current.CancellationToken);

        // Assert
        Assert.True(result.Succeeded, result.ToString());
    }

    [Theory]
    [MemberData(nameof(RenderCases.Profiles), MemberType = typeof(RenderCases))]
    public async Task Lint_EveryProfile_PassesStrict(string profile)
    {
        // Arrange
        var values = ChartLayout.ValuesFile(profile);
        List<string> arguments = ["lint", ChartLayout.ChartDirectory, "--strict", "--kube-version", ChartLayout.KubeVersions[0]];
        if (values is not null)
        {
            arguments.AddRange(["-f", values]);
        }

        // Act
        var result = await Helm.RunAsync(arguments, TestContext.Current.CancellationToken);

        // Assert
        Assert.True(result.Succeeded, result.ToString());
    }

    [Fact]
    public void Profiles_CiFolder_HasTheProfilesTheIssueNames()
    {
        // Arrange: chart-testing reads ci/<name>-values.yaml; the issue names these situations.
        var files = Directory.Exists(Path.Combine(ChartLayout.ChartDirectory, "ci"))
            ? Directory.GetFiles(Path.Combine(ChartLayout.ChartDirectory, "ci"), "*-values.yaml").Select(Path.GetFileName).ToList()
            : [];

        // Assert
        Assert.True(files.Count >= 5, $"ci/ has {files.Count} values files ({string.Join(", ", files)}); expected at least default, minikube, external PostgreSQL, Jaeger off, single replica on SQLite.");
        Assert.Contains(files, f => f!.Contains("minikube", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(files, f => f!.Contains("postgres", StringComparison.OrdinalIgnoreCase) && f.Contains("external", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(files, f => f!.Contains("jaeger", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(files, f => f!.Contains("sqlite", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [MemberData(nameof(RenderCases.ProfilesAndVersions), MemberType = typeof(RenderCases))]
    public async Task Template_ProfileAtKubeVersion_RendersWorkloads(string profile, string kubeVersion)
    {
        // Act
        var render = await renders.GetAsync(profile, kubeVersion);

        // Assert
        Assert.True(render.Result.Succeeded, render.Result.ToString());
        Assert.NotEmpty(render.OfKind("Deployment"));
        Assert.All(render.Objects, o => Assert.False(string.IsNullOrEmpty(o.Kind) || string.IsNullOrEmpty(o.ApiVersion) || string.IsNullOrEmpty(o.Name), $"{render}: an object without apiVersion, kind or name in {o.Source}"));
        var duplicates = render.Objects.GroupBy(o => (o.ApiVersion.Split('/')[0], o.Kind, o.Name)).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, $"{render}: objects rendered twice: {string.Join(", ", duplicates)}");
    }

    [Fact]
    public async Task Template_BelowKubeVersionFloor_Fails()
    {
        // Act: Chart.yaml's kubeVersion (>= 1.30, native preStop.sleep) is enforced by helm.
        var result = await Helm.TemplateAsync("1.29.0", cancellationToken: TestContext.Current.CancellationToken);

        // Assert
        Assert.False(result.Succeeded, "helm template at Kubernetes 1.29 should fail on Chart.yaml's kubeVersion");
        Assert.Contains("kubeVersion", result.StandardError + result.StandardOutput, StringComparison.OrdinalIgnoreCase);
    }
}
