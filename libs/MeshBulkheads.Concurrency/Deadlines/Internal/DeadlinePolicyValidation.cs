using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Bulkheads.Internal;
using MeshBulkheads.Concurrency.Grpc;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Deadlines.Internal;

/// <summary>Source-generated DataAnnotations validator for <see cref="DeadlinePolicyOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class DeadlinePolicyOptionsValidator : IValidateOptions<DeadlinePolicyOptions>
{
}

/// <summary>
/// Validates deadlines and their relation to the bulkheads: for every routed method,
/// the bulkhead's <c>MaxQueueTime</c> &lt; the method's default deadline ≤ its maximum.
/// A request that may wait longer than its whole default deadline would time out in the queue instead of being shed.
/// </summary>
/// <remarks>
/// Fails only until the first snapshot was taken (<c>ValidateOnStart</c>, then <see cref="DeadlinePolicyMonitor"/>):
/// <see cref="IOptionsMonitor{TOptions}"/> would rethrow a failure from its change callback to whoever triggered the
/// reload. Afterwards <see cref="DeadlinePolicyMonitor"/> validates each reload with <see cref="Check"/>, keeps the last
/// good policy, and logs and counts the failure.
/// </remarks>
internal sealed class DeadlinePolicyValidation(
    BulkheadRegistry registry,
    IOptionsMonitor<BulkheadOptions> bulkheadOptions,
    IOptions<BulkheadRoutingOptions> routing) : IValidateOptions<DeadlinePolicyOptions>
{
    private static readonly DeadlinePolicyOptionsValidator s_generated = new();

    public ValidateOptionsResult Validate(string? name, DeadlinePolicyOptions options)
    {
        var result = Check(name, options);
        return result.Failed && registry.DeadlinesStartupValidated ? ValidateOptionsResult.Skip : result;
    }

    /// <summary>Every check, whether or not start-up has passed.</summary>
    public ValidateOptionsResult Check(string? name, DeadlinePolicyOptions options)
    {
        var failures = new List<string>();
        var generated = s_generated.Validate(name, options);
        if (generated.Failed)
        {
            failures.AddRange(generated.Failures.Select(f => $"{DeadlinePolicyOptions.SectionName}:{f}"));
        }

        CheckPolicy($"{DeadlinePolicyOptions.SectionName}:AllMethods", options.AllMethods, failures);
        foreach (var (prefix, policy) in options.Methods)
        {
            CheckPolicy($"{DeadlinePolicyOptions.SectionName}:Methods:{prefix}", policy, failures);
        }

        var routes = routing.Value;
        foreach (var (prefix, bulkheadName) in routes.RoutedOrDeclared())
        {
            var routeKey = routes.Routes.ContainsKey(prefix)
                ? $"{BulkheadConstants.SectionName}:{BulkheadRoutingOptions.RoutesKey}:{prefix}"
                : $"{prefix} (declared with DeclareMethods)";
            if (!registry.Contains(bulkheadName))
            {
                failures.Add($"{routeKey} names bulkhead '{bulkheadName}', which is not registered (known: {string.Join(", ", registry.Names)}).");
                continue;
            }

            var maxQueueTime = bulkheadOptions.Get(bulkheadName).MaxQueueTime;
            var policies = new List<(string Key, DeadlineOptions Policy)>
            {
                (prefix == BulkheadRoutingOptions.CatchAll ? "Deadlines:AllMethods" : $"Deadlines for {prefix}", prefix == BulkheadRoutingOptions.CatchAll ? options.AllMethods : options.Resolve(prefix)),
            };
            policies.AddRange(options.Methods
                .Where(m => prefix == BulkheadRoutingOptions.CatchAll || m.Key.StartsWith(prefix, StringComparison.Ordinal))
                .Select(m => ($"Deadlines:Methods:{m.Key}", m.Value)));
            foreach (var (key, policy) in policies)
            {
                if (maxQueueTime >= policy.Default)
                {
                    failures.Add($"{BulkheadConstants.SectionName}:{bulkheadName}:MaxQueueTime ({maxQueueTime}) must be below {key}:Default ({policy.Default}) for route {routeKey}.");
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckPolicy(string key, DeadlineOptions? policy, List<string> failures)
    {
        if (policy is null)
        {
            failures.Add($"{key} is missing.");
            return;
        }

        if (policy.Default <= TimeSpan.Zero || policy.Max > TimeSpan.FromHours(1))
        {
            failures.Add($"{key}: Default must be positive and Max at most 1 hour (Default {policy.Default}, Max {policy.Max}).");
        }

        if (policy.Default > policy.Max)
        {
            failures.Add($"{key}:Default ({policy.Default}) must not exceed {key}:Max ({policy.Max}).");
        }
    }
}
