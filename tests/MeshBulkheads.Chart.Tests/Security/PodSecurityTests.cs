using k8s.Models;
using MeshBulkheads.Chart.Tests.Rendering;

namespace MeshBulkheads.Chart.Tests.Security;

/// <summary>
/// The restricted Pod Security Standard (Kubernetes 1.30+ "latest": baseline + restricted rules),
/// evaluated over every pod template the chart renders, helm test pods included, in every profile.
/// </summary>
public sealed class PodSecurityTests(ChartRenders renders)
{
    private static readonly HashSet<string> AllowedVolumeTypes = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];
    private static readonly HashSet<string> SafeSysctls = ["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"];

    [Theory]
    [MemberData(nameof(RenderCases.Profiles), MemberType = typeof(RenderCases))]
    public async Task Restricted_EveryPodTemplate_Complies(string profile)
    {
        // Arrange
        var render = await renders.GetAsync(profile, "1.35.0");

        // Act
        var violations = render.PodTemplates.SelectMany(p => Violations(p.Spec).Select(v => $"{p}: {v}")).ToList();

        // Assert
        Assert.NotEmpty(render.PodTemplates);
        Assert.True(violations.Count == 0, $"{render}:{Environment.NewLine}{string.Join(Environment.NewLine, violations)}");
    }

    [Fact]
    public void Violations_PrivilegedRootPod_AreAllFound()
    {
        // Arrange: the evaluator itself must be able to fail.
        var spec = new V1PodSpec
        {
            HostNetwork = true,
            Volumes = [new V1Volume { Name = "h", HostPath = new V1HostPathVolumeSource { Path = "/" } }],
            Containers = [new V1Container { Name = "c", Ports = [new V1ContainerPort { ContainerPort = 80, HostPort = 80 }], SecurityContext = new V1SecurityContext { RunAsUser = 0, Capabilities = new V1Capabilities { Add = ["SYS_ADMIN"] } } }],
        };

        // Act
        var violations = Violations(spec);

        // Assert
        foreach (var expected in new[] { "hostNetwork", "hostPath", "hostPort", "runAsUser 0", "allowPrivilegeEscalation", "runAsNonRoot", "seccomp", "drop ALL", "SYS_ADMIN" })
        {
            Assert.Contains(violations, v => v.Contains(expected, StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(RenderCases.Profiles), MemberType = typeof(RenderCases))]
    public async Task MeshComponents_EveryPod_RunsAs1654OnReadOnlyRootWithoutToken(string profile)
    {
        // Arrange: the issue's own rules for the MeshBulkheads images (beyond the standard).
        var render = await renders.GetAsync(profile, "1.35.0");
        var components = render.PodTemplates.Where(p => p.Spec.Containers.Any(c => c.Image.Contains("meshbulkheads/", StringComparison.Ordinal)) && !p.IsHook).ToList();

        // Assert
        Assert.NotEmpty(components);
        Assert.All(components, p =>
        {
            Assert.True(p.Spec.AutomountServiceAccountToken == false, $"{p}: automountServiceAccountToken must be false");
            Assert.False(string.IsNullOrEmpty(p.Spec.ServiceAccountName), $"{p}: one ServiceAccount per component");
            foreach (var c in p.AllContainers)
            {
                Assert.True((c.SecurityContext?.RunAsUser ?? p.Spec.SecurityContext?.RunAsUser) == 1654, $"{p} {c.Name}: runAsUser 1654 (the images' USER)");
                Assert.True(c.SecurityContext?.ReadOnlyRootFilesystem == true, $"{p} {c.Name}: readOnlyRootFilesystem");
                Assert.Equal("IfNotPresent", c.ImagePullPolicy);
            }
        });
        Assert.Equal(components.Count, components.Select(p => p.Spec.ServiceAccountName).Distinct().Count());
    }

    internal static List<string> Violations(V1PodSpec spec)
    {
        var v = new List<string>();
        var pod = spec.SecurityContext;
        if (spec.HostNetwork == true)
        {
            v.Add("hostNetwork");
        }

        if (spec.HostPID == true)
        {
            v.Add("hostPID");
        }

        if (spec.HostIPC == true)
        {
            v.Add("hostIPC");
        }

        foreach (var volume in spec.Volumes ?? [])
        {
            var type = VolumeType(volume);
            if (!AllowedVolumeTypes.Contains(type))
            {
                v.Add($"volume {volume.Name} of type {type}");
            }
        }

        foreach (var sysctl in pod?.Sysctls ?? [])
        {
            if (!SafeSysctls.Contains(sysctl.Name))
            {
                v.Add($"sysctl {sysctl.Name}");
            }
        }

        if (pod?.RunAsUser == 0)
        {
            v.Add("pod runAsUser 0");
        }

        if (pod?.SeLinuxOptions is { } podSe && !SeLinuxAllowed(podSe))
        {
            v.Add("pod seLinuxOptions");
        }

        if (pod?.SeccompProfile is { } podSeccomp && !SeccompAllowed(podSeccomp))
        {
            v.Add($"pod seccomp {podSeccomp.Type}");
        }

        foreach (var c in (spec.InitContainers ?? []).Concat(spec.Containers ?? []))
        {
            var sc = c.SecurityContext;
            var name = $"container {c.Name}";
            if (sc?.Privileged == true)
            {
                v.Add($"{name}: privileged");
            }

            if (sc?.AllowPrivilegeEscalation != false)
            {
                v.Add($"{name}: allowPrivilegeEscalation must be false");
            }

            if ((sc?.RunAsNonRoot ?? pod?.RunAsNonRoot) != true)
            {
                v.Add($"{name}: runAsNonRoot must be true");
            }

            if ((sc?.RunAsUser ?? pod?.RunAsUser) == 0)
            {
                v.Add($"{name}: runAsUser 0");
            }

            var seccomp = sc?.SeccompProfile ?? pod?.SeccompProfile;
            if (seccomp is null || !SeccompAllowed(seccomp))
            {
                v.Add($"{name}: seccomp profile must be RuntimeDefault or Localhost (is {seccomp?.Type ?? "unset"})");
            }

            var drop = sc?.Capabilities?.Drop ?? [];
            if (!drop.Contains("ALL"))
            {
                v.Add($"{name}: capabilities must drop ALL");
            }

            foreach (var add in (sc?.Capabilities?.Add ?? []).Where(a => a != "NET_BIND_SERVICE"))
            {
                v.Add($"{name}: adds capability {add}");
            }

            foreach (var port in (c.Ports ?? []).Where(p => p.HostPort is > 0))
            {
                v.Add($"{name}: hostPort {port.HostPort}");
            }

            if (sc?.ProcMount is { } procMount && procMount != "Default")
            {
                v.Add($"{name}: procMount {procMount}");
            }

            if (sc?.SeLinuxOptions is { } se && !SeLinuxAllowed(se))
            {
                v.Add($"{name}: seLinuxOptions");
            }

            if (sc?.WindowsOptions?.HostProcess == true)
            {
                v.Add($"{name}: windows hostProcess");
            }
        }

        return v;
    }

    private static bool SeccompAllowed(V1SeccompProfile profile) => profile.Type is "RuntimeDefault" or "Localhost";

    private static bool SeLinuxAllowed(V1SELinuxOptions se) =>
        string.IsNullOrEmpty(se.User) && string.IsNullOrEmpty(se.Role) && se.Type is null or "" or "container_t" or "container_init_t" or "container_kvm_t" or "container_engine_t";

    private static string VolumeType(V1Volume volume) => volume switch
    {
        { ConfigMap: not null } => "configMap",
        { Csi: not null } => "csi",
        { DownwardAPI: not null } => "downwardAPI",
        { EmptyDir: not null } => "emptyDir",
        { Ephemeral: not null } => "ephemeral",
        { PersistentVolumeClaim: not null } => "persistentVolumeClaim",
        { Projected: not null } => "projected",
        { Secret: not null } => "secret",
        { HostPath: not null } => "hostPath",
        _ => "other (" + volume.Name + ")",
    };
}
