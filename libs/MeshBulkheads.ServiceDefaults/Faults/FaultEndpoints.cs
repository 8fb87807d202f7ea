using System.Text.Json;
using MeshBulkheads.Contracts;
using MeshBulkheads.ServiceDefaults.Hosting;

namespace MeshBulkheads.ServiceDefaults.Faults;

/// <summary>
/// The faults API on the admin port (docs/faults.md): <c>GET /faults</c> (what is active, and the generation),
/// <c>PUT /faults</c> (replace the set; admin token), <c>DELETE /faults</c> (clear it; admin token). The token is checked
/// before the body is read (<see cref="AdminWriteEndpoints"/>); then a bad body is a 400 naming the field.
/// </summary>
public static class FaultEndpoints
{
    /// <summary>The path of the faults API.</summary>
    public const string Path = "/faults";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { AllowTrailingCommas = true };

    /// <summary>Maps the three endpoints on the admin listener.</summary>
    public static void MapFaultEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet(Path, (FaultPipelines pipelines, IOptions<MeshFaultOptions> options, IHostEnvironment environment) =>
                Results.Json(State(pipelines.Faults, IsEnabled(options.Value, environment)), Json))
            .WithMetadata(new Hosting.Internal.AdminEndpointMetadata(ServedOnGrpcListener: false));
        endpoints.MapPut(Path, PutAsync).RequireAdminToken();
        endpoints.MapDelete(Path, (HttpContext context, FaultPipelines pipelines, IOptions<MeshFaultOptions> options, IHostEnvironment environment) =>
        {
            if (!IsEnabled(options.Value, environment))
            {
                return Disabled();
            }

            if (options.Value.File is { Length: > 0 } file)
            {
                return FromFile(file);
            }

            pipelines.Faults.Replace([], AdminWriteEndpoints.TokenId(context));
            return Results.Json(State(pipelines.Faults, enabled: true), Json);
        }).RequireAdminToken();
    }

    /// <summary>Whether this process takes faults: <see cref="MeshFaultOptions.Enabled"/>, else everywhere but Production.</summary>
    public static bool IsEnabled(MeshFaultOptions options, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        return options.Enabled ?? !environment.IsProduction();
    }

    private static async Task<IResult> PutAsync(HttpContext context, FaultPipelines pipelines, IOptions<MeshFaultOptions> options, IHostEnvironment environment, TimeProvider timeProvider)
    {
        var settings = options.Value;
        if (!IsEnabled(settings, environment))
        {
            return Disabled();
        }

        if (settings.File is { Length: > 0 } file)
        {
            return FromFile(file);
        }

        FaultRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync<FaultRequest>(context.Request.Body, Json, context.RequestAborted);
        }
        catch (JsonException e)
        {
            return Bad($"the body is not a faults document ({{\"faults\": [...]}}): {(e.Path is { Length: > 0 } path ? path + ": " : string.Empty)}{e.Message.Split('.')[0]}.");
        }

        if (request?.Faults is not { } faults)
        {
            return Bad("faults: required (an array; [] clears them, as DELETE does).");
        }

        var (accepted, problem) = Accept(faults, settings, timeProvider.GetUtcNow());
        if (problem is not null)
        {
            return Bad(problem);
        }

        pipelines.Faults.Replace(accepted!, AdminWriteEndpoints.TokenId(context));
        return Results.Json(State(pipelines.Faults, enabled: true), Json);
    }

    /// <summary>Validates a document's faults and stamps their expiry; the first problem, naming the field, or the accepted faults.</summary>
    internal static (List<FaultSpec>? Accepted, string? Problem) Accept(IReadOnlyList<FaultSpec?> faults, MeshFaultOptions settings, DateTimeOffset now, bool absoluteExpiry = false)
    {
        if (faults.Count > 16)
        {
            return (null, $"faults: at most 16; got {faults.Count}.");
        }

        var accepted = new List<FaultSpec>(faults.Count);
        for (var i = 0; i < faults.Count; i++)
        {
            if (Validate(faults[i], settings, $"faults[{i}]") is { } problem)
            {
                return (null, problem);
            }

            var fault = faults[i]!;
            var expiresIn = fault.ExpiresInSeconds > 0 ? TimeSpan.FromSeconds(fault.ExpiresInSeconds) : settings.DefaultExpiry;
            // The API ignores a sent expiresAt (its expiry is relative, bounded); the faults file may name an absolute one
            // (a ConfigMap is read minutes after it is written), still bounded by MaxExpiry.
            var expiresAt = absoluteExpiry && fault.ExpiresAt is { } at ? (at < now + settings.MaxExpiry ? at : now + settings.MaxExpiry) : now + expiresIn;
            accepted.Add(fault with { ExpiresAt = expiresAt, Status = fault.Status.ToUpperInvariant() });
        }

        return (accepted, null);
    }

    private static string? Validate(FaultSpec? fault, MeshFaultOptions options, string at)
    {
        if (fault is null)
        {
            return $"{at}: a fault object, not null.";
        }

        if (!FaultKinds.All.Contains(fault.Kind))
        {
            return $"{at}.kind: '{Echo(fault.Kind)}' is not one of {string.Join(", ", FaultKinds.All)}.";
        }

        if (!FaultTargets.All.Contains(fault.Target))
        {
            return $"{at}.target: '{Echo(fault.Target)}' is not one of {string.Join(", ", FaultTargets.All)}.";
        }

        if (fault.MethodPrefix.Length > 0 && (!fault.MethodPrefix.StartsWith('/') || fault.MethodPrefix.Length > 200))
        {
            return $"{at}.methodPrefix: a gRPC path prefix such as '/meshbulkheads.payments.v1.PaymentsService/' (at most 200 characters), or empty for every method.";
        }

        if (fault.Ratio is not (> 0 and <= 1) || double.IsNaN(fault.Ratio))
        {
            return $"{at}.ratio: between 0 (exclusive) and 1; got {fault.Ratio}.";
        }

        if (fault.ExpiresInSeconds < 0 || fault.ExpiresInSeconds > options.MaxExpiry.TotalSeconds)
        {
            return $"{at}.expiresInSeconds: between 0 (the default, {options.DefaultExpiry.TotalSeconds:0} s) and {options.MaxExpiry.TotalSeconds:0}; got {fault.ExpiresInSeconds}.";
        }

        return fault.Kind switch
        {
            FaultKinds.Latency when fault.LatencyMs <= 0 || fault.LatencyMs > options.MaxLatency.TotalMilliseconds =>
                $"{at}.latencyMs: between 0 (exclusive) and {options.MaxLatency.TotalMilliseconds:0}; got {fault.LatencyMs}.",
            FaultKinds.Latency when fault.JitterMs < 0 || fault.JitterMs > options.MaxLatency.TotalMilliseconds =>
                $"{at}.jitterMs: between 0 and {options.MaxLatency.TotalMilliseconds:0}; got {fault.JitterMs}.",
            FaultKinds.Error when Enum.GetValues<global::Grpc.Core.StatusCode>().All(s => !string.Equals(GrpcStatusNames.Canonical(s), fault.Status, StringComparison.OrdinalIgnoreCase)) || string.Equals(fault.Status, "OK", StringComparison.OrdinalIgnoreCase) =>
                $"{at}.status: a gRPC status name other than OK (UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, INTERNAL, …); got '{Echo(fault.Status)}'.",
            FaultKinds.Cpu when fault.CpuMs <= 0 || fault.CpuMs > options.MaxCpu.TotalMilliseconds =>
                $"{at}.cpuMs: between 0 (exclusive) and {options.MaxCpu.TotalMilliseconds:0}; got {fault.CpuMs}.",
            _ => null,
        };
    }

    private static object State(MeshFaults faults, bool enabled) => new { enabled, generation = faults.Generation, faults = faults.Active() };

    private static IResult Bad(string message) => Results.Text(message + "\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);

    private static IResult Disabled() => Results.Text(
        $"faults are disabled on this process (Production: set {MeshFaultOptions.SectionName}:Enabled=true)\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status403Forbidden);

    private static IResult FromFile(string file) => Results.Text(
        $"faults come from {file} here (the faults ConfigMap, one writer for every pod): change it instead (k8s/faults.sh)\n",
        "text/plain; charset=utf-8",
        statusCode: StatusCodes.Status409Conflict);

    private static string Echo(string? value) => value is null ? "null" : value.Length <= 32 ? value : value[..32] + "…";

    private sealed record FaultRequest(List<FaultSpec?>? Faults);
}
