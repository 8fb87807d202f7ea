using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>Binds <c>Mesh:Pitfalls</c> when the host has configuration (bare service collections in tests have none).</summary>
internal sealed class MeshPitfallOptionsSetup(IServiceProvider services) : IConfigureOptions<MeshPitfallOptions>
{
    public void Configure(MeshPitfallOptions options) =>
        services.GetService<IConfiguration>()?.GetSection(MeshPitfallOptions.SectionName).Bind(options);
}
