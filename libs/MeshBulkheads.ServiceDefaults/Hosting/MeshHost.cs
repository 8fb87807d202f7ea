using System.Reflection;
using MeshBulkheads.ServiceDefaults.Grpc;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

namespace MeshBulkheads.ServiceDefaults.Hosting;

/// <summary>Creates the builder every MeshBulkheads host starts from, and builds the mesh's gRPC service hosts.</summary>
public static class MeshHost
{
    /// <summary>
    /// The configuration key (an environment variable in practice) naming a JSON configuration file
    /// outside the host's folder, e.g. a mounted Kubernetes ConfigMap. When it is set the file must exist.
    /// </summary>
    public const string ConfigFileKey = "MESH_CONFIG_FILE";

    /// <summary>Where the Helm chart mounts each host's configuration; loaded when present and <see cref="ConfigFileKey"/> is unset.</summary>
    public const string DefaultConfigFile = "/etc/meshbulkheads/config/appsettings.json";

    /// <summary>
    /// Like <see cref="WebApplication.CreateBuilder(string[])"/>, but when <paramref name="hostAssembly"/>
    /// is the process's entry point the content root is the host's own folder, so
    /// <c>dotnet path/to/Host.dll</c> or <c>dotnet run --project …</c> from any directory finds the
    /// host's appsettings.json (its embedded defaults). When a test hosts it in-process, the content
    /// root stays the default and the test passes its configuration explicitly (several hosts'
    /// appsettings.json files share a test output folder and overwrite each other).
    /// Then the mounted configuration file is added (see <see cref="AddConfigFile"/>).
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args, Assembly hostAssembly)
    {
        var isProcessEntry = Assembly.GetEntryAssembly() == hostAssembly;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = isProcessEntry ? AppContext.BaseDirectory : null,
        });
        AddConfigFile(builder.Configuration);
        return builder;
    }

    /// <summary>
    /// Builds the host of a mesh gRPC service (payments, reporting, render) the one way they all are:
    /// <see cref="CreateBuilder"/>, <c>AddServiceDefaults</c>, the service's <paramref name="addServices"/>, the caller's
    /// <paramref name="configure"/> (tests pass their configuration there, so it has the last word), then
    /// <paramref name="onBuilt"/>, the default endpoints, <typeparamref name="TService"/> and, in Development only, gRPC reflection. Every
    /// call but health and reflection must carry a gateway-signed identity token for <paramref name="serviceName"/> (<c>Mesh:Identity</c>). The
    /// gateway, a proxy rather than a service, composes its own host.
    /// </summary>
    /// <typeparam name="TService">The service's gRPC implementation; its assembly is the host's.</typeparam>
    public static WebApplication BuildGrpcService<TService>(
        string[] args,
        string serviceName,
        int defaultGrpcPort,
        int defaultAdminPort,
        Action<IServiceCollection> addServices,
        Action<WebApplicationBuilder>? configure,
        Action<WebApplication>? onBuilt = null)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(addServices);
        var builder = CreateBuilder(args, typeof(TService).Assembly);
        builder.AddServiceDefaults(serviceName, defaultGrpcPort, defaultAdminPort);
        builder.Services.AddMeshIdentity(serviceName);
        addServices(builder.Services);
        configure?.Invoke(builder);
        // Last, after every AddGrpc: an undecodable request message is INTERNAL, not UNKNOWN (issue 15, K1).
        builder.Services.AddMeshRequestDecoding();

        var app = builder.Build();
        onBuilt?.Invoke(app);
        app.MapDefaultEndpoints();
        app.MapGrpcService<TService>();
        // Reflection describes every method to whoever asks: on a backend only where people explore (the gateway serves it always).
        if (app.Environment.IsDevelopment())
        {
            app.MapGrpcReflectionService();
        }

        return app;
    }

    /// <summary>
    /// Adds the file named by <see cref="ConfigFileKey"/> (required), or <see cref="DefaultConfigFile"/>
    /// when it exists, reloaded on change. It sits after appsettings.{Environment}.json and before the
    /// environment variables and the command line, so those still override single keys (the chart
    /// passes secrets that way). A file is needed at all because environment variables cannot carry
    /// keys with '-' such as bulkhead names (<c>Bulkheads:payments-read:…</c>).
    /// </summary>
    public static void AddConfigFile(IConfigurationBuilder configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var configured = configuration is IConfiguration current ? current[ConfigFileKey] : configuration.Build()[ConfigFileKey];
        var path = string.IsNullOrWhiteSpace(configured) ? DefaultConfigFile : Path.GetFullPath(configured);
        var required = !string.IsNullOrWhiteSpace(configured);
        if (!required && !File.Exists(path))
        {
            return;
        }

        var directory = Path.GetDirectoryName(path);
        if (required && (directory is null || !File.Exists(path)))
        {
            throw new FileNotFoundException($"{ConfigFileKey} names '{path}', which does not exist.", path);
        }

        var source = new JsonConfigurationSource
        {
            FileProvider = new PhysicalFileProvider(directory!),
            Path = Path.GetFileName(path),
            Optional = false,
            ReloadOnChange = true,
        };
        var sources = configuration.Sources;
        var environment = -1;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is EnvironmentVariablesConfigurationSource { Prefix: null or "" })
            {
                environment = i;
            }
        }

        if (environment < 0)
        {
            sources.Add(source);
        }
        else
        {
            sources.Insert(environment, source);
        }
    }
}
