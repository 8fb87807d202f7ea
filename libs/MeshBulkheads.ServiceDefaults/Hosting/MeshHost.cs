using System.Reflection;
using Microsoft.AspNetCore.Builder;

namespace MeshBulkheads.ServiceDefaults.Hosting;

/// <summary>Creates the builder every MeshBulkheads host starts from.</summary>
public static class MeshHost
{
    /// <summary>
    /// Like <see cref="WebApplication.CreateBuilder(string[])"/>, but when <paramref name="hostAssembly"/>
    /// is the process's entry point the content root is the host's own folder, so
    /// <c>dotnet path/to/Host.dll</c> or <c>dotnet run --project …</c> from any directory finds the
    /// host's appsettings.json (its embedded defaults). When a test hosts it in-process, the content
    /// root stays the default and the test passes its configuration explicitly (several hosts'
    /// appsettings.json files share a test output folder and overwrite each other).
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args, Assembly hostAssembly)
    {
        var isProcessEntry = Assembly.GetEntryAssembly() == hostAssembly;
        return WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = isProcessEntry ? AppContext.BaseDirectory : null,
        });
    }
}
