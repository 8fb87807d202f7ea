using k8s.Models;
using MeshBulkheads.Chart.Tests.Rendering;
using Microsoft.Extensions.Hosting;

namespace MeshBulkheads.Chart.Tests.Semantics;

/// <summary>What the rendered workloads mean together: probes, selectors, disruption budgets, the resource budget, autoscaling.</summary>
public sealed class WorkloadSemanticsTests(ChartRenders renders)
{
    private const decimal CpuBudget = 4m;
    private const decimal MemoryBudget = 6m * 1024 * 1024 * 1024;

    [Theory]
    [MemberData(nameof(RenderCases.Profiles), MemberType = typeof(RenderCases))]
    public async Task Probes_EveryProbe_PointsAtAContainerPortAndAHealthServiceThatExists(string profile)
    {
        // Arrange
        var render = await renders.GetAsync(profile, "1.35.0");
        var failures = new List<string>();

        // Act
        foreach (var pod in render.PodTemplates)
        {
            // meshload (helm test pod, load Job) runs to completion and serves nothing: no probe to point anywhere.
            var serves = pod.Owner.Kind is "Deployment" or "StatefulSet" or "DaemonSet";
            foreach (var c in pod.Spec.Containers)
            {
                var mesh = c.Image.Contains("meshbulkheads/", StringComparison.Ordinal);
                foreach (var (kind, probe) in new[] { ("startup", c.StartupProbe), ("liveness", c.LivenessProbe), ("readiness", c.ReadinessProbe) })
                {
                    if (probe is null)
                    {
                        if (mesh && serves)
                        {
                            failures.Add($"{pod} {c.Name}: no {kind} probe");
                        }

                        continue;
                    }

                    failures.AddRange(ProbeProblems(c, kind, probe, mesh).Select(p => $"{pod} {c.Name} {kind}: {p}"));
                }
            }
        }

        // Assert
        render.AssertNoFailures(failures);
    }

    private static IEnumerable<string> ProbeProblems(V1Container c, string kind, V1Probe probe, bool mesh)
    {
        var ports = c.Ports ?? [];
        bool HasPort(IntOrString port) => int.TryParse(port.Value, out var n) ? ports.Any(p => p.ContainerPort == n) : ports.Any(p => p.Name == port.Value);
        if (probe.Grpc is { } grpc)
        {
            if (!ports.Any(p => p.ContainerPort == grpc.Port))
            {
                yield return $"gRPC port {grpc.Port} is not a container port";
            }

            if (mesh)
            {
                // The hosts map exactly these names (ServiceDefaultsExtensions); kubelet reports NOT_FOUND for any other.
                var expected = kind == "liveness" ? ServiceDefaultsExtensions.LivenessService : ServiceDefaultsExtensions.ReadinessService;
                if (grpc.Service != expected && !(kind == "startup" && grpc.Service == ServiceDefaultsExtensions.LivenessService))
                {
                    yield return $"gRPC health service '{grpc.Service}', expected '{expected}'";
                }

                if (ports.FirstOrDefault(p => p.ContainerPort == grpc.Port)?.Name is { } name && name != "grpc")
                {
                    yield return $"gRPC probe on port '{name}', which is not the h2c gRPC port";
                }
            }
        }
        else if (probe.HttpGet is { } http)
        {
            if (!HasPort(http.Port))
            {
                yield return $"HTTP port {http.Port.Value} is not a container port";
            }

            if (mesh && http.Path is not ("/healthz" or "/readyz"))
            {
                yield return $"HTTP path {http.Path} is not /healthz or /readyz";
            }
        }
        else if (probe.TcpSocket is { } tcp)
        {
            if (!HasPort(tcp.Port))
            {
                yield return $"TCP port {tcp.Port.Value} is not a container port";
            }
        }
        else if (probe.Exec is null)
        {
            yield return "no probe handler";
        }
        else if (mesh)
        {
            yield return "exec probe on a MeshBulkheads image (native gRPC probes are expected)";
        }
    }

    [Theory]
    [MemberData(nameof(RenderCases.Profiles), MemberType = typeof(RenderCases))]
    public async Task Services_EverySelector_MatchesPodsAndTheirPorts(string profile)
    {
        // Arrange
        var render = await renders.GetAsync(profile, "1.35.0");
        var pods = render.PodTemplates.Where(p => !p.IsHook).ToList();
        var failures = new List<string>();

        // Act
        foreach (var service in render.Typed<V1Service>())
        {
            var selector = service.Spec.Selector;
            if (selector is null || selector.Count == 0)
            {
                failures.Add($"Service {service.Metadata.Name}: no selector");
                continue;
            }

            var selected = pods.Where(p => selector.All(s => p.Labels.TryGetValue(s.Key, out var v) && v == s.Value)).ToList();
            if (selected.Count == 0)
            {
                failures.Add($"Service {service.Metadata.Name}: selector {string.Join(",", selector.Select(s => $"{s.Key}={s.Value}"))} matches no pod template");
                continue;
            }

            foreach (var port in service.Spec.Ports ?? [])
            {
                var target = port.TargetPort?.Value ?? port.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                foreach (var pod in selected)
                {
                    var containerPorts = pod.Spec.Containers.SelectMany(c => c.Ports ?? []).ToList();
                    if (!containerPorts.Any(cp => cp.Name == target || cp.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture) == target))
                    {
                        failures.Add($"Service {service.Metadata.Name} port {port.Name}: target {target} is no container port of {pod}");
                    }
                }
            }
        }

        // Assert
        render.AssertNoFailures(failures);
    }

    [Theory]
    [MemberData(nameof(RenderCases.Profiles), MemberType = typeof(RenderCases))]
    public async Task Workloads_Selectors_UseOnlyStableLabelsAndMatchTheirTemplate(string profile)
    {
        // Arrange: version and chart labels change on upgrade; a selector holding them cannot be updated.
        var render = await renders.GetAsync(profile, "1.35.0");
        var failures = new List<string>();

        // Act
        foreach (var o in render.Objects)
        {
            var (selector, labels) = o.Typed switch
            {
                V1Deployment d => (d.Spec.Selector.MatchLabels, d.Spec.Template.Metadata?.Labels),
                V1StatefulSet s => (s.Spec.Selector.MatchLabels, s.Spec.Template.Metadata?.Labels),
                _ => (null, null),
            };
            if (selector is null)
            {
                continue;
            }

            foreach (var (key, value) in selector)
            {
                if (key is "app.kubernetes.io/version" or "helm.sh/chart" or "app.kubernetes.io/managed-by")
                {
                    failures.Add($"{o}: selector uses the unstable label {key}");
                }

                if (labels is null || !labels.TryGetValue(key, out var actual) || actual != value)
                {
                    failures.Add($"{o}: selector {key}={value} does not match its own pod template");
                }
            }

            foreach (var standard in new[] { "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component" })
            {
                if (labels is null || !labels.ContainsKey(standard))
                {
                    failures.Add($"{o}: pod template lacks {standard}");
                }
            }
        }

        // Assert
        render.AssertNoFailures(failures);
    }

    [Theory]
    [MemberData(nameof(RenderCases.Profiles), MemberType = typeof(RenderCases))]
    public async Task DisruptionBudgets_AtRenderedReplicas_NeverBlockADrain(string profile)
    {
        // Arrange
        var render = await renders.GetAsync(profile, "1.35.0");
        var pods = render.PodTemplates.Where(p => !p.IsHook).ToList();
        var failures = new List<string>();

        // Act
        foreach (var pdb in render.Typed<V1PodDisruptionBudget>())
        {
            var labels = pdb.Spec.Selector?.MatchLabels ?? new Dictionary<string, string>();
            var selected = pods.Where(p => labels.All(s => p.Labels.TryGetValue(s.Key, out var v) && v == s.Value)).ToList();
            var replicas = selected.Sum(p => p.Replicas);
            if (replicas == 0)
            {
                failures.Add($"PDB {pdb.Metadata.Name}: selects no pods");
                continue;
            }

            var allowed = AllowedDisruptions(pdb.Spec.MaxUnavailable?.Value, pdb.Spec.MinAvailable?.Value, replicas);
            if (allowed < 1)
            {
                failures.Add($"PDB {pdb.Metadata.Name}: {replicas} replica(s) allow {allowed} disruptions, so `kubectl drain` would hang");
            }
        }

        // Assert
        render.AssertNoFailures(failures);
    }

    [Theory]
    [InlineData(1, "1", null, 1)]
    [InlineData(2, null, "2", 0)]
    [InlineData(2, null, "50%", 1)]
    [InlineData(1, "0", null, 0)]
    public void AllowedDisruptions_Budget_MatchesTheDisruptionController(int replicas, string? maxUnavailable, string? minAvailable, int expected)
    {
        // Arrange
        // Act
        var allowed = AllowedDisruptions(maxUnavailable, minAvailable, replicas);

        // Assert
        Assert.Equal(expected, allowed);
    }

    // The disruption controller rounds percentages up, for maxUnavailable and minAvailable alike.
    private static int AllowedDisruptions(string? maxUnavailable, string? minAvailable, int replicas)
    {
        static int Resolve(string value, int replicas) => value.EndsWith('%')
            ? (int)Math.Ceiling(replicas * int.Parse(value.TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture) / 100.0)
            : int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        if (maxUnavailable is not null)
        {
            return Math.Min(Resolve(maxUnavailable, replicas), replicas);
        }

        return minAvailable is not null ? replicas - Resolve(minAvailable, replicas) : replicas;
    }

    [Theory]
    [MemberData(nameof(RenderCases.Profiles), MemberType = typeof(RenderCases))]
    public async Task Resources_SumOfRequests_FitsTheKindBudget(string profile)
    {
        // Arrange: the whole stack on kind within 4 CPU and 6 GiB of requests (hooks such as helm test excluded).
        var render = await renders.GetAsync(profile, "1.35.0");
        decimal cpu = 0, memory = 0;
        var missing = new List<string>();

        // Act
        foreach (var pod in render.PodTemplates.Where(p => !p.IsHook))
        {
            foreach (var c in pod.Spec.Containers)
            {
                var requests = c.Resources?.Requests;
                if (requests is null || !requests.ContainsKey("cpu") || !requests.ContainsKey("memory"))
                {
                    missing.Add($"{pod} {c.Name}");
                    continue;
                }

                cpu += requests["cpu"].ToDecimal() * pod.Replicas;
                memory += requests["memory"].ToDecimal() * pod.Replicas;
                var limits = c.Resources?.Limits;
                if (limits is null || !limits.ContainsKey("memory"))
                {
                    missing.Add($"{pod} {c.Name} (memory limit)");
                }
            }
        }

        // Assert
        Assert.True(missing.Count == 0, "containers without cpu and memory requests or a memory limit: " + string.Join(", ", missing));
        Assert.True(cpu <= CpuBudget, $"{render}: requests sum to {cpu} CPU > {CpuBudget}");
        Assert.True(memory <= MemoryBudget, $"{render}: requests sum to {memory / 1024 / 1024:0} MiB > 6 GiB");
    }

    [Theory]
    [MemberData(nameof(AutoscalingCases))]
    public async Task Autoscaling_Enabled_TargetHasNoReplicasField(string component)
    {
        // Arrange: a Deployment with spec.replicas fights its autoscaler on every `helm upgrade`.
        var render = new ChartRender("autoscaling-" + component, "1.35.0", await Helm.TemplateAsync(
            "1.35.0",
            setValues: ["autoscaling.provider=prometheus-adapter", $"components.{component}.autoscaling.enabled=true"],
            cancellationToken: TestContext.Current.CancellationToken));
        Assert.True(render.Result.Succeeded, render.Result.ToString());

        // Act
        var deployment = render.OfKind("Deployment").Single(d => d.As<V1Deployment>().Spec.Template.Spec.Containers.Any(c => c.Name == component));

        // Assert
        var spec = (YamlDotNet.RepresentationModel.YamlMappingNode)deployment.Node["spec"];
        Assert.False(spec.Children.ContainsKey(new YamlDotNet.RepresentationModel.YamlScalarNode("replicas")), $"{deployment}: autoscaling is enabled but spec.replicas is rendered");
    }

    [Theory]
    [MemberData(nameof(RenderCases.Profiles), MemberType = typeof(RenderCases))]
    public async Task Autoscaling_EveryAutoscalerTarget_HasNoReplicasField(string profile)
    {
        // Arrange
        var render = await renders.GetAsync(profile, "1.35.0");

        // Act
        var fighting = render.Autoscalers
            .SelectMany(a => render.OfKind(a.TargetKind).Where(o => o.Name == a.TargetName))
            .Where(o => ((YamlDotNet.RepresentationModel.YamlMappingNode)o.Node["spec"]).Children.ContainsKey(new YamlDotNet.RepresentationModel.YamlScalarNode("replicas")))
            .ToList();

        // Assert
        Assert.True(fighting.Count == 0, $"{render}: autoscaled workloads with spec.replicas: {string.Join(", ", fighting)}");
    }

    public static TheoryData<string> AutoscalingCases() => ["gateway", "payments", "reporting", "render"];

    [Fact]
    public async Task RedisTls_Enabled_RedisListensWithTlsOnlyAndTheGatewayChecksItsCertificateWithTheCaOnly()
    {
        // Arrange
        var render = new ChartRender("redis-tls", "1.35.0", await Helm.TemplateAsync(
            "1.35.0",
            setValues: ["redis.tls.enabled=true", "redis.tls.existingSecret=redis-tls"],
            cancellationToken: TestContext.Current.CancellationToken));
        Assert.True(render.Result.Succeeded, render.Result.ToString());

        // Act
        var pods = render.PodTemplates.ToList();
        var redisPod = pods.Single(p => p.Spec.Containers.Any(c => c.Name == "redis"));
        var redis = redisPod.Spec.Containers.Single(c => c.Name == "redis");
        var gatewayPod = pods.Single(p => p.Spec.Containers.Any(c => c.Name == "gateway"));
        var gateway = gatewayPod.Spec.Containers.Single(c => c.Name == "gateway");
        var args = string.Join(' ', redis.Args);
        var env = gateway.Env.ToDictionary(e => e.Name, e => e.Value);
        var caVolume = gatewayPod.Spec.Volumes.Single(v => v.Secret?.SecretName == "redis-tls");

        // Assert
        Assert.Contains("--port 0 --tls-port 6379", args, StringComparison.Ordinal);
        Assert.Contains("--tls-cert-file /etc/redis/tls/tls.crt --tls-key-file /etc/redis/tls/tls.key", args, StringComparison.Ordinal);
        Assert.Equal("true", env["Gateway__RateLimiting__Redis__Tls"]);
        Assert.Equal("/etc/meshbulkheads/redis-tls/ca.crt", env["Gateway__RateLimiting__Redis__TlsCaFile"]);
        Assert.Equal(["ca.crt"], caVolume.Secret.Items.Select(i => i.Key));
        Assert.Contains(gateway.VolumeMounts, m => m.Name == caVolume.Name && m.MountPath == "/etc/meshbulkheads/redis-tls");
    }

    [Fact]
    public async Task RedisTls_Default_NoTlsSettingsRendered()
    {
        // Arrange
        var render = await renders.GetAsync("default", "1.35.0");

        // Act
        var gateway = render.PodTemplates.SelectMany(p => p.Spec.Containers).Single(c => c.Name == "gateway");
        var redis = render.PodTemplates.SelectMany(p => p.Spec.Containers).Single(c => c.Name == "redis");

        // Assert
        Assert.DoesNotContain(gateway.Env, e => e.Name.StartsWith("Gateway__RateLimiting__Redis__Tls", StringComparison.Ordinal));
        Assert.DoesNotContain("--tls-port", redis.Args);
    }

    [Fact]
    public async Task GrpcTls_BothEnabled_SecretsMountedReadOnlyConfigSetHttpsDestinationsAndAdminProbes()
    {
        // Arrange
        var render = new ChartRender("grpc-tls", "1.35.0", await Helm.TemplateAsync(
            "1.35.0",
            setValues: ["tls.gateway.enabled=true", "tls.gateway.existingSecret=gateway-tls", "tls.backends.enabled=true", "tls.backends.existingSecret=mesh-tls"],
            cancellationToken: TestContext.Current.CancellationToken));
        Assert.True(render.Result.Succeeded, render.Result.ToString());

        // Act
        var pods = render.PodTemplates.Where(p => p.Owner.Kind == "Deployment").ToList();
        V1PodSpec Spec(string name) => pods.Single(p => p.Spec.Containers.Any(c => c.Name == name)).Spec;
        V1Container Container(string name) => Spec(name).Containers.Single(c => c.Name == name);
        var gatewayEnv = Container("gateway").Env.ToDictionary(e => e.Name, e => e.Value);
        var gatewayConfig = render.Typed<V1ConfigMap>().Single(m => m.Metadata.Name.EndsWith("-gateway", StringComparison.Ordinal)).Data["appsettings.json"];

        // Assert: every mesh component serves its gRPC port from the mounted Secret, read-only, probed on the admin port.
        foreach (var (name, secret) in new[] { ("gateway", "gateway-tls"), ("payments", "mesh-tls"), ("reporting", "mesh-tls"), ("render", "mesh-tls") })
        {
            var container = Container(name);
            var env = container.Env.ToDictionary(e => e.Name, e => e.Value);
            Assert.Equal("/etc/meshbulkheads/tls/tls.crt", env["Mesh__Tls__CertificateFile"]);
            Assert.Equal("/etc/meshbulkheads/tls/tls.key", env["Mesh__Tls__KeyFile"]);
            var volume = Spec(name).Volumes.Single(v => v.Name == "grpc-tls");
            Assert.Equal(secret, volume.Secret.SecretName);
            var mount = container.VolumeMounts.Single(m => m.Name == "grpc-tls");
            Assert.Equal("/etc/meshbulkheads/tls", mount.MountPath);
            Assert.True(mount.ReadOnlyProperty);
            // A subPath mount would never see the Secret's updates.
            Assert.Null(mount.SubPath);
            foreach (var probe in new[] { container.StartupProbe, container.LivenessProbe, container.ReadinessProbe })
            {
                Assert.Null(probe.Grpc);
                Assert.Equal("admin", probe.HttpGet.Port.Value);
            }

            Assert.Equal("/healthz", container.LivenessProbe.HttpGet.Path);
            Assert.Equal("/readyz", container.ReadinessProbe.HttpGet.Path);
        }

        // The gateway gets only the backends' CA, never their key; reporting reads ca.crt from its own mount.
        Assert.Equal("/etc/meshbulkheads/backend-ca/ca.crt", gatewayEnv["Gateway__Tls__BackendCaFile"]);
        Assert.Equal(["ca.crt"], Spec("gateway").Volumes.Single(v => v.Name == "backend-ca").Secret.Items.Select(i => i.Key));
        Assert.True(Container("gateway").VolumeMounts.Single(m => m.Name == "backend-ca").ReadOnlyProperty);
        Assert.Equal("/etc/meshbulkheads/tls/ca.crt", Container("reporting").Env.Single(e => e.Name == "Reporting__PaymentsCaFile").Value);
        Assert.Equal(["tls.crt", "tls.key"], Spec("payments").Volumes.Single(v => v.Name == "grpc-tls").Secret.Items.Select(i => i.Key));
        foreach (var backend in new[] { "payments", "reporting", "render" })
        {
            Assert.Matches($"\"Address\": \"https://[a-z0-9-]+-{backend}\\.[a-z0-9-]+\\.svc\\.cluster\\.local:", gatewayConfig);
        }

        Assert.DoesNotContain("\"Address\": \"http://", gatewayConfig, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GrpcTls_BackendsOnly_GatewayPublicPortStaysH2cWithGrpcProbes()
    {
        // Arrange
        var render = new ChartRender("grpc-tls-backends", "1.35.0", await Helm.TemplateAsync(
            "1.35.0",
            setValues: ["tls.backends.enabled=true", "tls.backends.existingSecret=mesh-tls"],
            cancellationToken: TestContext.Current.CancellationToken));
        Assert.True(render.Result.Succeeded, render.Result.ToString());

        // Act
        var gatewayPod = render.PodTemplates.Single(p => p.Owner.Kind == "Deployment" && p.Spec.Containers.Any(c => c.Name == "gateway"));
        var gateway = gatewayPod.Spec.Containers.Single(c => c.Name == "gateway");

        // Assert
        Assert.DoesNotContain(gateway.Env, e => e.Name.StartsWith("Mesh__Tls__", StringComparison.Ordinal));
        Assert.Contains(gateway.Env, e => e.Name == "Gateway__Tls__BackendCaFile");
        Assert.NotNull(gateway.ReadinessProbe.Grpc);
        Assert.DoesNotContain(gatewayPod.Spec.Volumes, v => v.Name == "grpc-tls");
    }

    [Fact]
    public async Task GrpcTls_Default_NoTlsSettingsAndGrpcProbes()
    {
        // Arrange
        var render = await renders.GetAsync("default", "1.35.0");

        // Act
        var containers = render.PodTemplates.Where(p => p.Owner.Kind == "Deployment").SelectMany(p => p.Spec.Containers)
            .Where(c => c.Name is "gateway" or "payments" or "reporting" or "render").ToList();

        // Assert
        Assert.Equal(4, containers.Count);
        Assert.All(containers, c =>
        {
            Assert.DoesNotContain(c.Env, e => e.Name.StartsWith("Mesh__Tls__", StringComparison.Ordinal) || e.Name is "Gateway__Tls__BackendCaFile" or "Reporting__PaymentsCaFile");
            Assert.NotNull(c.ReadinessProbe.Grpc);
            Assert.DoesNotContain(c.VolumeMounts, m => m.Name is "grpc-tls" or "backend-ca");
        });
    }
}
