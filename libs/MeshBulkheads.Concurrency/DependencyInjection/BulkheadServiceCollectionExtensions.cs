using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Bulkheads.Internal;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Deadlines.Internal;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Concurrency.Rejections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers bulkheads, deadlines and their gRPC interceptors.</summary>
public static class BulkheadServiceCollectionExtensions
{
    /// <summary>
    /// Adds the bulkhead services: <see cref="IBulkheadProvider"/>, metrics (meter <c>MeshBulkheads.Concurrency</c>),
    /// <see cref="DeadlineResolver"/>, <see cref="DeadlineInterceptor"/>, <see cref="BulkheadInterceptor"/> and their options
    /// (<c>Bulkheads:Routes</c>, <c>Deadlines</c>, <c>Criticality</c>). Safe to call more than once.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to add named bulkheads.</returns>
    public static IBulkheadsBuilder AddBulkheads(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var registry = services.FirstOrDefault(d => d.ServiceType == typeof(BulkheadRegistry))?.ImplementationInstance as BulkheadRegistry;
        if (registry is null)
        {
            registry = new BulkheadRegistry();
            services.AddSingleton(registry);
            services.AddMetrics();
            services.AddLogging();
            services.TryAddSingleton(TimeProvider.System);
            services.TryAddSingleton<BulkheadMetrics>();
            services.TryAddSingleton<BulkheadProvider>();
            services.TryAddSingleton<IBulkheadProvider>(sp => sp.GetRequiredService<BulkheadProvider>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BulkheadOptions>, BulkheadOptionsValidation>());
            // The mesh-wide pitfall switch (Mesh:Pitfalls:NoBulkheads) lifts every bulkhead's bounds here, after every other step.
            services.AddMeshPitfalls();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<BulkheadOptions>, NoBulkheadsPostConfigure>());

            services.AddOptions<BulkheadRoutingOptions>()
                .Configure<IServiceProvider>((o, sp) =>
                {
                    var section = sp.GetService<IConfiguration>()?.GetSection(BulkheadConstants.SectionName);
                    section?.GetSection(BulkheadRoutingOptions.RoutesKey).Bind(o.Routes);
                });
            services.AddOptions<CriticalityOptions>()
                .Configure<IServiceProvider>((o, sp) => sp.GetService<IConfiguration>()?.GetSection(CriticalityOptions.SectionName).Bind(o))
                .Validate<IServiceProvider>(
                    (_, sp) => sp.GetService<IConfiguration>()?.GetSection($"{BulkheadConstants.SectionName}:{BulkheadRoutingOptions.DefaultCriticalityKey}").Exists() != true,
                    $"{BulkheadConstants.SectionName}:{BulkheadRoutingOptions.DefaultCriticalityKey} was removed: set {CriticalityOptions.SectionName}:Default (and {CriticalityOptions.SectionName}:Methods:<method prefix>), see docs/migration.md.")
                .ValidateOnStart();

            // Code defaults first, configuration bound over them: each configured key overrides its own value.
            services.AddOptions<DeadlinePolicyOptions>().Configure(registry.ApplyDeadlineDefaults).ValidateOnStart();
            OptionalBind<DeadlinePolicyOptions>(services, Options.Options.DefaultName, DeadlinePolicyOptions.SectionName);
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DeadlinePolicyOptions>, DeadlinePolicyValidation>());
            services.TryAddSingleton<DeadlinePolicyMonitor>();
            services.TryAddSingleton(sp => new DeadlineResolver(sp.GetRequiredService<DeadlinePolicyMonitor>(), sp.GetRequiredService<TimeProvider>()));
            services.TryAddSingleton(sp => new DeadlineInterceptor(sp.GetRequiredService<DeadlineResolver>()));
            services.TryAddSingleton<IHandlerStartObserver, NullHandlerStartObserver>();
            services.TryAddSingleton<BulkheadInterceptor>();

            // Every named bulkhead (its timer, its gauges) and the deadline policies exist from host start, not
            // from inside the first request that happens to need them.
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BulkheadStartup>());
        }

        return new BulkheadsBuilder(services, registry);
    }

    /// <summary>
    /// Registers <see cref="MeshPitfallOptions"/> (section <c>Mesh:Pitfalls</c>, read at start; unbound without an
    /// <see cref="IConfiguration"/>). <see cref="AddBulkheads"/> calls it; a feature that honours a mesh-wide switch
    /// outside the bulkheads (the gateway's tenant rate limits) calls it too. Safe to call more than once.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddMeshPitfalls(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<MeshPitfallOptions>, MeshPitfallOptionsSetup>());
        return services;
    }

    /// <summary>
    /// Binds a configuration section when an <see cref="IConfiguration"/> is registered (hosts) and does nothing
    /// otherwise (bare service collections in tests and benchmarks), and reloads with it.
    /// </summary>
    private static void OptionalBind<TOptions>(IServiceCollection services, string name, string section)
        where TOptions : class
    {
        services.AddSingleton<IConfigureOptions<TOptions>>(sp => new ConfigureNamedOptions<TOptions>(
            name, o => sp.GetService<IConfiguration>()?.GetSection(section).Bind(o)));
        services.AddSingleton<IOptionsChangeTokenSource<TOptions>>(sp => sp.GetService<IConfiguration>() is { } configuration
            ? new ConfigurationChangeTokenSource<TOptions>(name, configuration.GetSection(section))
            : new NoChangeTokenSource<TOptions>(name));
    }

    private sealed class NoChangeTokenSource<TOptions>(string name) : IOptionsChangeTokenSource<TOptions>
    {
        public string? Name { get; } = name;

        public IChangeToken GetChangeToken() => NullChangeToken.Singleton;
    }

    private sealed class BulkheadsBuilder(IServiceCollection services, BulkheadRegistry registry) : IBulkheadsBuilder
    {
        public IServiceCollection Services { get; } = services;

        public IBulkheadsBuilder AddBulkhead(string name, Action<BulkheadOptions>? configure = null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name);
            if (string.Equals(name, BulkheadRoutingOptions.RoutesKey, StringComparison.OrdinalIgnoreCase)
                || string.Equals(name, BulkheadRoutingOptions.DefaultCriticalityKey, StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"'{name}' is reserved for Bulkheads:{name}.", nameof(name));
            }

            registry.Add(name);
            var builder = Services.AddOptions<BulkheadOptions>(name);
            if (configure is not null)
            {
                builder.Configure(configure);
            }

            OptionalBind<BulkheadOptions>(Services, name, $"{BulkheadConstants.SectionName}:{name}");
            builder.ValidateOnStart();
            return this;
        }

        public IBulkheadsBuilder MapMethods(string methodPrefix, string bulkheadName) =>
            Associate(methodPrefix, bulkheadName, o => o.Routes);

        public IBulkheadsBuilder MapMethods(string methodPrefix, string bulkheadName, DeadlineOptions deadline) =>
            MapMethods(methodPrefix, bulkheadName).AddDeadline(methodPrefix, deadline);

        public IBulkheadsBuilder DeclareMethods(string methodPrefix, string bulkheadName) =>
            Associate(methodPrefix, bulkheadName, o => o.Declared);

        public IBulkheadsBuilder DeclareMethods(string methodPrefix, string bulkheadName, DeadlineOptions deadline) =>
            DeclareMethods(methodPrefix, bulkheadName).AddDeadline(methodPrefix, deadline);

        public IBulkheadsBuilder AddDeadline(string methodPrefix, DeadlineOptions deadline)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(methodPrefix);
            ArgumentNullException.ThrowIfNull(deadline);
            registry.AddDeadlineDefault(methodPrefix, deadline);
            return this;
        }

        private BulkheadsBuilder Associate(string methodPrefix, string bulkheadName, Func<BulkheadRoutingOptions, Dictionary<string, string>> table)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(methodPrefix);
            ArgumentException.ThrowIfNullOrWhiteSpace(bulkheadName);

            // Configuration binding was registered first and runs first; TryAdd lets a configured route win.
            Services.Configure<BulkheadRoutingOptions>(o => table(o).TryAdd(methodPrefix, bulkheadName));
            return this;
        }
    }
}
