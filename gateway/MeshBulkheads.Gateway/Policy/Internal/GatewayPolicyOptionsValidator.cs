using System.Globalization;
using MeshBulkheads.Gateway.Tenancy;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Gateway.Policy.Internal;

/// <summary>Refuses an unusable policy; every message names the setting.</summary>
internal sealed class GatewayPolicyOptionsValidator : IValidateOptions<GatewayPolicyOptions>
{
    private const string Section = GatewayPolicyOptions.SectionName;
    private const double MinRate = 0.01;
    private const double MaxRate = 1_000_000;
    private const int MaxBurst = 1_000_000;
    private static readonly TimeSpan MinDeadline = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan MaxDeadline = TimeSpan.FromHours(1);

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
                failures.Add($"{Section}:Tiers:{tier} is missing: set TokensPerSecond and Burst for every tier.");
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

        var smallestBurst = options.Tiers.Values.Select(t => t.Burst).DefaultIfEmpty(int.MaxValue).Min();
        foreach (var (route, cost) in options.RouteCosts)
        {
            if (cost < 1 || cost > smallestBurst)
            {
                failures.Add($"{Section}:RouteCosts:{route} is {cost}: it must be between 1 and the smallest tier Burst ({smallestBurst}), or no call on that route could ever pass.");
            }
        }

        foreach (var (route, deadline) in options.Deadlines)
        {
            var setting = $"{Section}:Deadlines:{route}";
            if (deadline.Default < MinDeadline || deadline.Default > MaxDeadline || deadline.Max < MinDeadline || deadline.Max > MaxDeadline)
            {
                failures.Add($"{setting}: Default ({deadline.Default}) and Max ({deadline.Max}) must be between {MinDeadline} and {MaxDeadline}.");
            }
            else if (deadline.Default > deadline.Max)
            {
                failures.Add($"{setting}:Default ({deadline.Default}) must not exceed {setting}:Max ({deadline.Max}).");
            }
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
