using System.Globalization;
using MeshBulkheads.Gateway.Tenancy;

namespace MeshBulkheads.Gateway.Policy.Internal;

/// <summary>Refuses an unusable policy; every message names the setting.</summary>
/// <param name="configuration">
/// The configuration the options were bound from, or null: it tells a tier that is absent from one whose value the
/// binder dropped (a plain value where a section is expected), which would otherwise read as "missing".
/// </param>
internal sealed class GatewayPolicyOptionsValidator(IConfiguration? configuration = null) : IValidateOptions<GatewayPolicyOptions>
{
    private const string Section = GatewayPolicyOptions.SectionName;
    private const double MinRate = 0.01;
    private const double MaxRate = 1_000_000;
    private const int MaxBurst = 1_000_000;

    public ValidateOptionsResult Validate(string? name, GatewayPolicyOptions options)
    {
        var failures = new List<string>();
        foreach (var tier in options.Tiers.Keys.Where(t => !TenantTiers.IsKnown(t)))
        {
            failures.Add($"{Section}:Tiers:{tier} is not a known tier ({string.Join('|', TenantTiers.All)}).");
        }

        foreach (var tier in TenantTiers.All)
        {
            if (!options.Tiers.TryGetValue(tier, out var limit))
            {
                failures.Add(configuration?[$"{Section}:Tiers:{tier}"] is { } value
                    ? $"{Section}:Tiers:{tier} is the value '{value}', not a section: set {Section}:Tiers:{tier}:TokensPerSecond and {Section}:Tiers:{tier}:Burst (environment: {Section}__Tiers__{tier}__TokensPerSecond)."
                    : $"{Section}:Tiers:{tier} is missing: set TokensPerSecond and Burst for every tier.");
                continue;
            }

            CheckBucket($"{Section}:Tiers:{tier}", limit, failures);
        }

        // Gold > silver > bronze: a better tier never gets a lower rate.
        for (var i = 1; i < TenantTiers.All.Count; i++)
        {
            var better = TenantTiers.All[i - 1];
            var worse = TenantTiers.All[i];
            if (options.Tiers.TryGetValue(better, out var b) && options.Tiers.TryGetValue(worse, out var w) && b.TokensPerSecond <= w.TokensPerSecond)
            {
                failures.Add(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{Section}:Tiers:{better}:TokensPerSecond ({b.TokensPerSecond}) must be greater than {Section}:Tiers:{worse}:TokensPerSecond ({w.TokensPerSecond})."));
            }
        }

        CheckBucket($"{Section}:UnauthenticatedLimit", options.UnauthenticatedLimit, failures);
        if (options.UnauthenticatedSources is < 1 or > 1_000_000)
        {
            failures.Add($"{Section}:UnauthenticatedSources is {options.UnauthenticatedSources}: it must be between 1 and 1000000 (the client sources whose unauthenticated bucket is kept).");
        }

        var smallestBurst = options.Tiers.Values.Select(t => t.Burst).DefaultIfEmpty(int.MaxValue).Min();
        foreach (var (route, cost) in options.RouteCosts)
        {
            if (cost < 1 || cost > smallestBurst)
            {
                failures.Add($"{Section}:RouteCosts:{route} is {cost}: it must be between 1 and the smallest tier Burst ({smallestBurst}), or no call on that route could ever pass.");
            }
        }

        foreach (var route in options.Deadlines.Keys)
        {
            failures.Add($"{Section}:Deadlines:{route} was removed: set Deadlines:Methods:<method prefix>:Default|Max (the services' keys, e.g. Deadlines:Methods:/meshbulkheads.payments.v1.PaymentsService/:Default), see docs/migration.md.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckBucket(string setting, TokenBucketLimit? limit, List<string> failures)
    {
        if (limit is null)
        {
            failures.Add($"{setting} is missing.");
            return;
        }

        if (!(limit.TokensPerSecond is >= MinRate and <= MaxRate))
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{setting}:TokensPerSecond is {limit.TokensPerSecond}: it must be between {MinRate} and {MaxRate}."));
        }

        if (limit.Burst is < 1 or > MaxBurst)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{setting}:Burst is {limit.Burst}: it must be between 1 and {MaxBurst}."));
        }
    }
}
