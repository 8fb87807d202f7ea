using System.Text.Json;
using k8s.Models;
using MeshBulkheads.Chart.Tests.Configuration;
using MeshBulkheads.Chart.Tests.Rendering;
using MeshBulkheads.Gateway.Tenancy;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace MeshBulkheads.Chart.Tests.Security;

/// <summary>
/// The API keys the chart generates: clients get the keys (<c>api-keys.json</c>), the gateway mounts only their
/// SHA-256 hashes in the <c>tenants</c> format (<c>tenants.json</c>), and the gateway built from the rendered pod
/// authenticates every client key as its tenant, with the tier from the values.
/// </summary>
public sealed class ApiKeysSecretTests(ChartRenders renders)
{
    private static readonly Dictionary<string, string> ProductionImage = new() { ["ASPNETCORE_ENVIRONMENT"] = "Production" };

    [Theory]
    [MemberData(nameof(RenderCases.Profiles), MemberType = typeof(RenderCases))]
    public async Task GeneratedKeys_GatewayBuiltFromItsPod_AuthenticatesEveryClientKeyAndHoldsNoKey(string profile)
    {
        // Arrange
        var render = await renders.GetAsync(profile, "1.35.0");
        var pod = ComponentHosts.DeployedPodOrSkip(render, "gateway");
        var secret = render.Typed<V1Secret>().Single(s => s.Metadata.Name.EndsWith("-api-keys", StringComparison.Ordinal));
        var clientKeys = JsonSerializer.Deserialize<Dictionary<string, string>>(secret.Data["api-keys.json"])!;
        var tiers = ValuesTenants();
        using var sandbox = PodSandbox.Create(render, pod, "gateway", ProductionImage);

        // Act
        await using var app = ComponentHosts.Build("gateway", sandbox.Environment);
        var authenticator = app.Services.GetRequiredService<ApiKeyAuthenticator>();
        var authenticated = clientKeys.ToDictionary(k => k.Key, k => authenticator.Authenticate(k.Value));

        // Assert: every key a client reads is its tenant, with its tier; a key that is not in the Secret is nobody.
        Assert.Equal(tiers.Keys.Order(), clientKeys.Keys.Order());
        foreach (var (tenant, result) in authenticated)
        {
            Assert.True(result is not null, $"{render}: the gateway does not accept the key the Secret gives clients for '{tenant}'");
            Assert.Equal(tenant, result.Id);
            Assert.Equal(tiers[tenant], result.Tier);
        }

        Assert.Null(authenticator.Authenticate(clientKeys.Values.First() + "x"));
        // The tenants come from the mounted file alone (the tenants format refuses a tenant also in Gateway:Tenants).
        Assert.Empty(app.Services.GetRequiredService<IConfiguration>().GetSection("Gateway:Tenants").GetChildren());
        // Nothing the gateway's container can read holds a usable key: only the hashes are mounted.
        var leaks = Directory.EnumerateFiles(sandbox.Root, "*", SearchOption.AllDirectories)
            .Where(f => clientKeys.Values.Any(File.ReadAllText(f).Contains))
            .Select(f => Path.GetRelativePath(sandbox.Root, f))
            .ToList();
        Assert.True(leaks.Count == 0, $"{render}: the gateway's container can read a client key in {string.Join(", ", leaks)}");
        Assert.Equal(["tenants.json"], pod.Spec.Volumes.Single(v => v.Name == "api-keys").Secret.Items.Select(i => i.Key));
    }

    [Theory]
    [InlineData("tenants", "tenants.json", 0)]
    [InlineData("keys", "api-keys.json", 3)]
    public async Task ExistingSecret_Format_GatewayMountsThatFileAndTakesTenantsFromValuesOnlyForKeys(string format, string file, int configuredTenants)
    {
        // Arrange
        var render = new ChartRender($"api-keys-{format}", "1.35.0", await Helm.TemplateAsync(
            "1.35.0",
            setValues: ["apiKeys.existingSecret=my-keys", $"apiKeys.existingSecretFormat={format}"],
            cancellationToken: TestContext.Current.CancellationToken));
        Assert.True(render.Result.Succeeded, render.Result.ToString());

        // Act
        var pod = ComponentHosts.PodOf(render, "gateway");
        var volume = pod.Spec.Volumes.Single(v => v.Name == "api-keys");
        var config = render.Typed<V1ConfigMap>().Single(m => m.Metadata.Name.EndsWith("-gateway", StringComparison.Ordinal)).Data["appsettings.json"];
        using var document = JsonDocument.Parse(config);
        var gateway = document.RootElement.GetProperty("Gateway");

        // Assert
        Assert.Equal("my-keys", volume.Secret.SecretName);
        Assert.Equal([file], volume.Secret.Items.Select(i => i.Key));
        Assert.Equal($"/etc/meshbulkheads/secrets/{file}", gateway.GetProperty("ApiKeysFile").GetString());
        Assert.Equal(configuredTenants, gateway.TryGetProperty("Tenants", out var tenants) ? tenants.GetArrayLength() : 0);
        Assert.DoesNotContain(render.Typed<V1Secret>(), s => s.Metadata.Name.EndsWith("-api-keys", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExistingSecretFormat_Unknown_RefusedBySchema()
    {
        // Act
        var result = await Helm.TemplateAsync("1.35.0", setValues: ["apiKeys.existingSecret=my-keys", "apiKeys.existingSecretFormat=raw"], cancellationToken: TestContext.Current.CancellationToken);

        // Assert
        Assert.False(result.Succeeded, "helm template accepted apiKeys.existingSecretFormat=raw");
        Assert.Contains("existingSecretFormat", result.ToString(), StringComparison.Ordinal);
    }

    /// <summary>The tenants and tiers of values.yaml (no profile overrides them).</summary>
    private static Dictionary<string, string> ValuesTenants()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(Infrastructure.ChartLayout.ChartDirectory, "values.yaml"))));
        var tenants = (YamlSequenceNode)((YamlMappingNode)yaml.Documents[0].RootNode).Children[new YamlScalarNode("tenants")];
        return tenants.Children.Cast<YamlMappingNode>().ToDictionary(t => t.Children[new YamlScalarNode("id")].ToString(), t => t.Children[new YamlScalarNode("tier")].ToString());
    }
}
