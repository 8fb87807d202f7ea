using MeshBulkheads.Chart.Tests.Infrastructure;
using MeshBulkheads.Chart.Tests.Rendering;
using MeshBulkheads.Gateway;
using MeshBulkheads.Payments;
using MeshBulkheads.Render;
using MeshBulkheads.Reporting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

namespace MeshBulkheads.Chart.Tests.Configuration;

/// <summary>
/// The four hosts built in-process exactly as their Program.cs builds them (<c>XApp.Build</c>), with a
/// container's environment passed as command-line configuration (same precedence over the mounted file
/// as environment variables), and the host's own appsettings*.json from its project folder.
/// </summary>
internal static class ComponentHosts
{
    private static readonly Dictionary<string, (Func<string[], Action<WebApplicationBuilder>?, WebApplication> Build, string Project)> Hosts = new(StringComparer.Ordinal)
    {
        ["gateway"] = (GatewayApp.Build, "gateway/MeshBulkheads.Gateway"),
        ["payments"] = (PaymentsApp.Build, "services/MeshBulkheads.Payments"),
        ["reporting"] = (ReportingApp.Build, "services/MeshBulkheads.Reporting"),
        ["render"] = (RenderApp.Build, "services/MeshBulkheads.Render"),
    };

    public static IReadOnlyCollection<string> Names => Hosts.Keys;

    public static bool IsHost(string containerName) => Hosts.ContainsKey(containerName);

    public static string ProjectDirectory(string component) => Path.Combine(ChartLayout.Root, Hosts[component].Project);

    /// <summary>The component's pod template in a render (by container name).</summary>
    /// <summary>The running (not hook) pod holding <paramref name="component"/>; skips the test when <paramref name="render"/> does not deploy it.</summary>
    public static PodTemplate DeployedPodOrSkip(ChartRender render, string component)
    {
        var pod = render.PodTemplates.Where(p => !p.IsHook).SingleOrDefault(p => p.Spec.Containers.Any(c => c.Name == component));
        if (pod is null)
        {
            Assert.Skip($"{render}: {component} is not deployed");
        }

        return pod;
    }

    public static PodTemplate PodOf(ChartRender render, string component) =>
        render.PodTemplates.Single(p => !p.IsHook && p.Spec.Containers.Any(c => c.Name == component));

    /// <summary>
    /// Builds the host (not started) with <paramref name="environment"/>; null builds it as a local run
    /// does (code defaults + appsettings*.json, Development: Production carries no demo tenants).
    /// </summary>
    public static WebApplication Build(string component, IReadOnlyDictionary<string, string>? environment)
    {
        var env = environment ?? new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Development" };
        var args = env.Select(e => $"--{ConfigurationKey(e.Key)}={e.Value}").ToList();
        if (environment is null)
        {
            // Code defaults, but a gateway signs and a service verifies with keys, which only make run or the chart supplies.
            args.AddRange(TestIdentity.GatewaySettings.Select(s => $"--{s.Key}={s.Value}"));
        }

        var environmentName = env.GetValueOrDefault("ASPNETCORE_ENVIRONMENT") ?? env.GetValueOrDefault("DOTNET_ENVIRONMENT") ?? "Production";
        var (build, _) = Hosts[component];
        return build([.. args], b =>
        {
            UseOwnAppSettings(b, ProjectDirectory(component), environmentName);
            if (environment is null)
            {
                b.Services.PostConfigure<MeshBulkheads.ServiceDefaults.Identity.MeshIdentityOptions>(TestIdentity.ConfigureService);
            }
        });
    }

    /// <summary>How the host reads an environment variable: DOTNET_/ASPNETCORE_ host settings lose the prefix, __ is ':'.</summary>
    public static string ConfigurationKey(string variable)
    {
        foreach (var prefix in new[] { "ASPNETCORE_", "DOTNET_" })
        {
            if (variable.StartsWith(prefix, StringComparison.Ordinal))
            {
                return variable[prefix.Length..].Replace("__", ":", StringComparison.Ordinal);
            }
        }

        return variable.Replace("__", ":", StringComparison.Ordinal);
    }

    // In a test process the content root is the test's output folder, where the hosts' appsettings.json
    // overwrite each other: put the host's own files in their place, same order.
    private static void UseOwnAppSettings(WebApplicationBuilder builder, string projectDirectory, string environmentName)
    {
        var contentRoot = Path.TrimEndingDirectorySeparator(builder.Environment.ContentRootPath);
        var sources = ((IConfigurationBuilder)builder.Configuration).Sources;
        for (var i = 0; i < sources.Count; i++)
        {
            // The mounted file (MESH_CONFIG_FILE) is also called appsettings.json, but lives elsewhere.
            if (sources[i] is JsonConfigurationSource { Path: { } path } json
                && (path == "appsettings.json" || path == $"appsettings.{environmentName}.json")
                && (json.FileProvider is null || (json.FileProvider is PhysicalFileProvider p && Path.TrimEndingDirectorySeparator(p.Root) == contentRoot)))
            {
                sources[i] = new JsonConfigurationSource
                {
                    FileProvider = new PhysicalFileProvider(projectDirectory),
                    Path = path,
                    Optional = true,
                    ReloadOnChange = false,
                };
            }
        }
    }
}
