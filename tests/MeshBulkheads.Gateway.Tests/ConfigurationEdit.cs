using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;

namespace MeshBulkheads.Gateway.Tests;

/// <summary>
/// Edits a running host's configuration as one reload, like a changed file: the values go into the
/// test's in-memory source without notifications, then one <c>Reload()</c>.
/// (<c>configuration[key] = value</c> on a ConfigurationManager notifies on every single key.)
/// </summary>
public static class ConfigurationEdit
{
    public static void Apply(IServiceProvider services, IDictionary<string, string?> values)
    {
        var configuration = (IConfigurationRoot)services.GetService(typeof(IConfiguration))!;
        var memory = configuration.Providers.OfType<MemoryConfigurationProvider>().Last();
        foreach (var (key, value) in values)
        {
            memory.Set(key, value);
        }

        configuration.Reload();
    }
}
