using System.Security.Cryptography;

namespace MeshBulkheads.Chaos.Local;

/// <summary>What to start: which services, how many payments replicas, on which database, and extra configuration per host.</summary>
internal sealed record MeshPlan
{
    /// <summary>Payments replicas behind the gateway (destinations d1, d2, …); more than one needs PostgreSQL.</summary>
    public int PaymentsReplicas { get; init; } = 1;

    /// <summary>PostgreSQL for payments; null uses the embedded SQLite ledger in the run's directory.</summary>
    public string? PostgresConnectionString { get; init; }

    public bool Reporting { get; init; }

    public bool Render { get; init; }

    /// <summary>Configuration per host name (<c>gateway</c>, <c>payments-1</c>, <c>reporting</c>, <c>render</c>), ':'-separated keys.</summary>
    public Func<string, IReadOnlyDictionary<string, string>>? Configure { get; init; }

    /// <summary>CPUs per host name for <c>taskset -c</c>; null runs unpinned.</summary>
    public Func<string, string?>? Cpus { get; init; }

    /// <summary>Replaces a cluster's destinations with another address (e.g. a blackhole), by cluster id.</summary>
    public IReadOnlyDictionary<string, string> DestinationOverrides { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// The mesh as local processes from the build output, on loopback ports chosen at start and kept across
/// restarts, with identity keys and an admin token generated for this run (as <c>make run</c> does):
/// the gateway signs for each service with its key, each service holds only its own.
/// </summary>
internal sealed class LocalMesh : IAsyncDisposable
{
    public const string KeyId = "chaos1";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);
    private readonly Dictionary<string, HostProcess> _hosts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Grpc, int Admin)> _ports = new(StringComparer.Ordinal);
    private readonly string _root;
    private readonly string _configuration;
    private readonly string _runDirectory;
    private readonly MeshPlan _plan;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, string> _keys;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public LocalMesh(string root, string configuration, string runDirectory, MeshPlan plan, TimeProvider time)
    {
        _root = root;
        _configuration = configuration;
        _runDirectory = runDirectory;
        _plan = plan;
        _time = time;
        AdminToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        _keys = new[] { "payments", "reporting", "render" }.ToDictionary(s => s, _ => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), StringComparer.Ordinal);
        foreach (var name in HostNames)
        {
            _ports[name] = (MeshLayout.FreePort(), MeshLayout.FreePort());
        }
    }

    /// <summary>The admin token of every host of this run (for <c>PUT /faults</c>).</summary>
    public string AdminToken { get; }

    public IEnumerable<string> PaymentsNames => Enumerable.Range(1, _plan.PaymentsReplicas).Select(i => $"payments-{i}");

    /// <summary>Every host this plan starts, in start order (the gateway last).</summary>
    public IReadOnlyList<string> HostNames =>
        [.. PaymentsNames, .. _plan.Reporting ? new[] { "reporting" } : [], .. _plan.Render ? new[] { "render" } : [], "gateway"];

    public Uri GatewayAddress => new($"http://127.0.0.1:{_ports["gateway"].Grpc}");

    public Uri Admin(string host) => new($"http://127.0.0.1:{_ports[host].Admin}");

    public Uri Grpc(string host) => new($"http://127.0.0.1:{_ports[host].Grpc}");

    public HostProcess this[string host] => _hosts[host];

    /// <summary>
    /// Starts the backends at once and waits until each is ready, then the gateway (its first active probe must find
    /// them ready). No backend's readiness depends on another's, so starting them together only overlaps their
    /// start-up (≈ 1–2 s of JIT each on 2 cores; one after another was most of "start the mesh").
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var tier in new[] { Backends, ["gateway"] })
        {
            foreach (var name in tier)
            {
                var host = Create(name);
                _hosts[name] = host;
                host.Start();
            }

            await Task.WhenAll(tier.Select(name => WaitReadyAsync(name, cancellationToken))).ConfigureAwait(false);
        }
    }

    private string[] Backends => [.. HostNames.Where(name => name != "gateway")];

    /// <summary>Polls <c>/readyz</c> on the host's admin port until it answers 200.</summary>
    public async Task WaitReadyAsync(string name, CancellationToken cancellationToken)
    {
        var start = _time.GetTimestamp();
        while (!await IsReadyAsync(name, cancellationToken).ConfigureAwait(false))
        {
            var host = _hosts[name];
            if (!host.IsRunning)
            {
                throw new InvalidOperationException($"{name} exited ({host.ExitCode}) before it was ready:{Environment.NewLine}{host.RecentLog()}");
            }

            if (_time.GetElapsedTime(start) > ReadyTimeout)
            {
                throw new TimeoutException($"{name} was not ready within {ReadyTimeout.TotalSeconds:0} s:{Environment.NewLine}{host.RecentLog()}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<bool> IsReadyAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri(Admin(name), "/readyz"), cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>The host's <c>/metrics</c> in Prometheus text; empty when it does not answer.</summary>
    public async Task<MetricsText> ScrapeAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return new MetricsText(await _http.GetStringAsync(new Uri(Admin(name), "/metrics"), cancellationToken).ConfigureAwait(false));
        }
        catch (HttpRequestException)
        {
            return new MetricsText(string.Empty);
        }
    }

    /// <summary>Starts a stopped or killed host again, same ports, same configuration; waits until ready.</summary>
    public async Task RestartAsync(string name, CancellationToken cancellationToken)
    {
        _hosts[name].Start();
        await WaitReadyAsync(name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An admin HTTP request with this run's admin token.</summary>
    public async Task<string> AdminAsync(string name, HttpMethod method, string path, string? json, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(Admin(name), path));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode ? body : throw new InvalidOperationException($"{method} {path} on {name}: {(int)response.StatusCode} {body}");
    }

    public async ValueTask DisposeAsync()
    {
        // The gateway first, so no call reaches a backend that went first; then the backends together (each drains
        // with its own shutdown numbers, so one after another added them up).
        foreach (var tier in new[] { ["gateway"], Backends })
        {
            await Task.WhenAll(tier.Where(_hosts.ContainsKey).Select(async name =>
            {
                var host = _hosts[name];
                await host.StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                await host.DisposeAsync().ConfigureAwait(false);
            })).ConfigureAwait(false);
        }

        _http.Dispose();
    }

    private HostProcess Create(string name)
    {
        var project = name switch
        {
            "gateway" => MeshLayout.Gateway,
            "reporting" => MeshLayout.Reporting,
            "render" => MeshLayout.Render,
            _ => MeshLayout.Payments,
        };
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Mesh:GrpcPort"] = _ports[name].Grpc.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Mesh:AdminPort"] = _ports[name].Admin.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Mesh:BindAddress"] = "127.0.0.1",
            ["Mesh:Admin:Token"] = AdminToken,
            // Development: the demo tenants, keys and seeded ledger, as make run; faults enabled.
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
            ["Logging:Console:FormatterName"] = "simple",
            ["Logging:Console:FormatterOptions:ColorBehavior"] = "Disabled",
        };
        switch (project)
        {
            case MeshLayout.Gateway:
                settings["Gateway:Identity:SigningKeyId"] = KeyId;
                foreach (var (service, key) in _keys)
                {
                    settings[$"Gateway:Identity:Keys:{service}:{KeyId}"] = key;
                }

                Destinations(settings, "payments", PaymentsNames.Select(Grpc));
                Destinations(settings, "reporting", [_plan.Reporting ? Grpc("reporting") : Unused()]);
                Destinations(settings, "render", [_plan.Render ? Grpc("render") : Unused()]);
                foreach (var (cluster, address) in _plan.DestinationOverrides)
                {
                    Destinations(settings, cluster, [new Uri(address)]);
                }

                break;
            case MeshLayout.Payments:
                settings[$"Mesh:Identity:Keys:{KeyId}"] = _keys["payments"];
                if (_plan.PostgresConnectionString is { } connection)
                {
                    settings["Payments:ConnectionString"] = connection;
                }
                else
                {
                    settings["Payments:DataDirectory"] = Path.Combine(_runDirectory, "payments-data");
                }

                break;
            case MeshLayout.Reporting:
                settings[$"Mesh:Identity:Keys:{KeyId}"] = _keys["reporting"];
                settings["Reporting:PaymentsAddress"] = Grpc("payments-1").ToString().TrimEnd('/');
                break;
            case MeshLayout.Render:
                settings[$"Mesh:Identity:Keys:{KeyId}"] = _keys["render"];
                break;
        }

        foreach (var (key, value) in _plan.Configure?.Invoke(name) ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        var assembly = MeshLayout.Assembly(_root, project, _configuration);
        var environment = settings.ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value, StringComparer.Ordinal);
        return new HostProcess(name, "dotnet", ["exec", assembly], Path.GetDirectoryName(assembly)!, environment, Path.Combine(_runDirectory, "logs", name + ".log"), _plan.Cpus?.Invoke(name));
    }

    private static void Destinations(Dictionary<string, string> settings, string cluster, IEnumerable<Uri> addresses)
    {
        foreach (var key in settings.Keys.Where(k => k.StartsWith($"ReverseProxy:Clusters:{cluster}:Destinations:", StringComparison.Ordinal)).ToList())
        {
            settings.Remove(key);
        }

        var i = 1;
        foreach (var address in addresses)
        {
            settings[$"ReverseProxy:Clusters:{cluster}:Destinations:d{i++}:Address"] = address.ToString().TrimEnd('/');
        }
    }

    // A port nothing listens on, for a cluster this plan does not start.
    private static Uri Unused() => new($"http://127.0.0.1:{MeshLayout.FreePort()}");
}
