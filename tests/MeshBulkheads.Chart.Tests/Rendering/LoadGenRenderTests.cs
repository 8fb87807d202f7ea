using k8s.Models;
using MeshBulkheads.Chart.Tests.Infrastructure;
using MeshBulkheads.Chart.Tests.Security;

namespace MeshBulkheads.Chart.Tests.Rendering;

/// <summary>meshload in the chart: the load Job (ci/loadgen-values.yaml) and the <c>helm test</c> pod.</summary>
public sealed class LoadGenRenderTests(ChartRenders renders)
{
    private const string LoadGenProfile = "loadgen";

    [Fact]
    public async Task LoadJob_Enabled_RunsTheMeshloadImageOnceWithJsonAgainstTheGateway()
    {
        // Arrange
        var render = await renders.GetAsync(LoadGenProfile, ChartLayout.KubeVersions[^1]);

        // Act
        var job = Assert.Single(render.Typed<V1Job>(), j => Component(j.Spec.Template.Metadata) == "loadgen");
        var container = Assert.Single(job.Spec.Template.Spec.Containers);
        var args = container.Args ?? [];

        // Assert
        Assert.Equal($"meshbulkheads/meshload:{AppVersion()}", container.Image);
        Assert.Equal(["scenario", "noisy-neighbor", "--duration", "30s"], args.Take(4));
        Assert.Contains("--json", args);
        Assert.Equal(GatewayTarget(render), ValueAfter(args, "--target"));
        Assert.Equal(0, job.Spec.BackoffLimit);
        Assert.Equal("Never", job.Spec.Template.Spec.RestartPolicy);
        Assert.True(job.Spec.TtlSecondsAfterFinished > 0, "ttlSecondsAfterFinished is not set");
        Assert.True(job.Spec.ActiveDeadlineSeconds > 0, "activeDeadlineSeconds is not set");
    }

    [Fact]
    public async Task LoadJob_Default_IsNotRendered()
    {
        // Act
        var render = await renders.DefaultAsync();

        // Assert
        Assert.Empty(render.Typed<V1Job>());
    }

    [Theory]
    [InlineData(ChartLayout.DefaultProfile)]
    [InlineData(LoadGenProfile)]
    public async Task HelmTest_Profile_RunsMeshloadThroughTheGatewayWithThresholds(string profile)
    {
        // Arrange
        var render = await renders.GetAsync(profile, ChartLayout.KubeVersions[^1]);

        // Act
        var hooks = render.PodTemplates.Where(p => p.IsHook).ToList();
        var meshload = Assert.Single(hooks.SelectMany(p => p.Spec.Containers), c => c.Image.Contains("meshbulkheads/meshload:", StringComparison.Ordinal));
        var args = meshload.Args ?? [];
        var thresholds = args.Select((a, i) => (a, i)).Where(x => x.a == "--threshold").Select(x => args[x.i + 1]).ToList();

        // Assert
        Assert.Equal($"meshbulkheads/meshload:{AppVersion()}", meshload.Image);
        Assert.Equal(GatewayTarget(render), ValueAfter(args, "--target"));
        Assert.Contains("--json", args);
        Assert.NotNull(ValueAfter(args, "--duration"));
        Assert.NotEmpty(thresholds);
        Assert.Contains(thresholds, t => t.Contains("ok>=", StringComparison.Ordinal));
        Assert.All(hooks, p => Assert.Equal("Never", p.Spec.RestartPolicy));
    }

    [Fact]
    public async Task MeshloadPods_LoadGenProfile_PassRestrictedPodSecurity()
    {
        // Arrange: the Job and the helm test pod are pod templates the restricted evaluator reads.
        var render = await renders.GetAsync(LoadGenProfile, ChartLayout.KubeVersions[^1]);

        // Act
        var pods = render.PodTemplates.Where(p => p.Spec.Containers.Any(c => c.Image.Contains("meshbulkheads/meshload:", StringComparison.Ordinal))).ToList();
        var violations = pods.SelectMany(p => PodSecurityTests.Violations(p.Spec).Select(v => $"{p}: {v}")).ToList();

        // Assert
        Assert.Equal(2, pods.Count);
        Assert.Contains(pods, p => p.IsHook);
        Assert.Contains(pods, p => p.Owner.Kind == "Job");
        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
    }

    private static string? Component(V1ObjectMeta? metadata) =>
        metadata?.Labels is { } labels && labels.TryGetValue("app.kubernetes.io/component", out var c) ? c : null;

    private static string? ValueAfter(IList<string> args, string option)
    {
        var i = args.IndexOf(option);
        return i >= 0 && i + 1 < args.Count ? args[i + 1] : null;
    }

    /// <summary>The gateway's client-facing Service (not the headless one), as an http:// gRPC target.</summary>
    [Theory]
    [InlineData("", "gateway-tls")]
    [InlineData("gateway-ca", "gateway-ca")]
    public async Task GatewayTls_Enabled_InClusterClientsDialHttpsTrustingOnlyTheGatewayCa(string caSecret, string expectedSecret)
    {
        // Arrange
        var render = new ChartRender("gateway-tls-clients", ChartLayout.KubeVersions[^1], await Helm.TemplateAsync(
            ChartLayout.KubeVersions[^1],
            setValues: ["tls.gateway.enabled=true", "tls.gateway.existingSecret=gateway-tls", $"tls.gateway.caSecret={caSecret}", "loadgen.job.enabled=true"],
            cancellationToken: TestContext.Current.CancellationToken));
        Assert.True(render.Result.Succeeded, render.Result.ToString());

        // Act: every meshload container (the Job and the helm test pod) and the grpcurl helm test pod.
        var pods = render.PodTemplates.Where(p => p.Spec.Containers.Any(c => c.Name is "meshload" or "grpcurl")).ToList();

        // Assert
        Assert.Equal(3, pods.Count);
        foreach (var pod in pods)
        {
            var container = pod.Spec.Containers.Single();
            var args = container.Args ?? [];
            var caFile = container.Name == "meshload"
                ? ValueAfter(args, "--ca-file")
                : Assert.Single(args).Split(' ').SkipWhile(a => a != "-cacert").Skip(1).FirstOrDefault();
            Assert.True(caFile is not null, $"{pod}: no CA file given to {container.Name}");
            if (container.Name == "meshload")
            {
                Assert.Equal(GatewayTarget(render, "https"), ValueAfter(args, "--target"));
            }
            else
            {
                Assert.DoesNotContain("-plaintext", Assert.Single(args), StringComparison.Ordinal);
            }

            // The CA file is ca.crt of the gateway's CA Secret, mounted read-only.
            var mount = Assert.Single(container.VolumeMounts, m => caFile.StartsWith(m.MountPath + "/", StringComparison.Ordinal));
            Assert.True(mount.ReadOnlyProperty, $"{pod}: {mount.Name} is writable");
            var volume = Assert.Single(pod.Spec.Volumes, v => v.Name == mount.Name);
            Assert.Equal(expectedSecret, volume.Secret.SecretName);
            Assert.Equal(Path.GetFileName(caFile), Assert.Single(volume.Secret.Items, i => i.Key == "ca.crt").Path);
        }
    }

    [Fact]
    public async Task GatewayTls_Default_InClusterClientsDialCleartextWithoutACa()
    {
        // Arrange
        var render = await renders.GetAsync(LoadGenProfile, ChartLayout.KubeVersions[^1]);

        // Act
        var containers = render.PodTemplates.SelectMany(p => p.Spec.Containers).Where(c => c.Name is "meshload" or "grpcurl").ToList();

        // Assert
        Assert.Equal(3, containers.Count);
        Assert.All(containers, c => Assert.DoesNotContain("--ca-file", c.Args ?? []));
        Assert.All(containers.Where(c => c.Name == "meshload"), c => Assert.Equal(GatewayTarget(render), ValueAfter(c.Args, "--target")));
        Assert.All(containers.Where(c => c.Name == "grpcurl"), c => Assert.Contains("-plaintext", Assert.Single(c.Args), StringComparison.Ordinal));
    }

    private static string GatewayTarget(ChartRender render, string scheme = "http")
    {
        var service = Assert.Single(render.Typed<V1Service>(), s => Component(s.Metadata) == "gateway" && s.Spec.ClusterIP != "None");
        var grpc = Assert.Single(service.Spec.Ports, p => p.Name == "grpc");
        return $"{scheme}://{service.Metadata.Name}.{ChartLayout.Namespace}.svc.cluster.local:{grpc.Port}";
    }

    private static string AppVersion() =>
        File.ReadAllLines(Path.Combine(ChartLayout.ChartDirectory, "Chart.yaml"))
            .Select(l => l.Trim())
            .Single(l => l.StartsWith("appVersion:", StringComparison.Ordinal))["appVersion:".Length..].Trim().Trim('"');
}
