using System.Globalization;
using CsCheck;
using Grpc.AspNetCore.Server;
using MeshBulkheads.Contracts.Reporting.V1;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Reporting.Tests.Grpc;

/// <summary>
/// Property-based tests of <c>BuildReport</c> on a real reporting host (real Kestrel) over a fake payments server:
/// account id lists from explicit edge classes (empty, one, at, just over and far over <c>Reporting:MaxAccounts</c>,
/// duplicates, empty, over-long, control-character, trailing-newline, unicode and unknown ids, balances whose sum
/// overflows int64), each answer compared with an independent model of the README's rules: count, then each id in
/// order (empty, malformed, duplicate), then NOT_FOUND for an unknown account, then one total per currency
/// (FAILED_PRECONDITION beyond int64).
/// </summary>
public sealed class BuildReportPropertyTests
{
    private const int Cases = 1_000;

    /// <summary>Known accounts the fake serves: acct-0001 … acct-0150 (USD, 100 × i), a few EUR, two at long.MaxValue.</summary>
    private const int KnownUsdAccounts = 150;

    [Fact]
    public async Task BuildReport_GeneratedAccountLists_AnswerTheDocumentedStatusAndTotals()
    {
        // Arrange
        await using var mesh = await ReportingTestHost.StartAsync();
        mesh.Fake.AddAccounts(KnownUsdAccounts);
        foreach (var (id, balance, currency) in new[]
        {
            ("eur-01", 7L, "EUR"), ("eur-02", 0L, "EUR"), ("eur-max", long.MaxValue, "EUR"),
            ("gbp-01", 12_345L, "GBP"), ("big-1", long.MaxValue, "USD"), ("big-2", long.MaxValue - 1, "USD"), ("zero", 0L, "USD"),
        })
        {
            mesh.Fake.Accounts[id] = (balance, 3, currency);
        }

        var model = new ReportModel(
            mesh.Fake.Accounts.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal),
            mesh.Host.Services.GetRequiredService<IOptions<ReportingOptions>>().Value.MaxAccounts,
            mesh.Host.Services.GetRequiredService<IOptions<GrpcServiceOptions>>().Value.MaxReceiveMessageSize
                ?? throw new InvalidOperationException("reporting sets a receive limit."));
        var classes = new SortedDictionary<string, int>(StringComparer.Ordinal);

        // Act
        var cases = await PropertyRun.CheckAsync(
            nameof(BuildReportPropertyTests),
            Requests(model.MaxAccounts, [.. model.Accounts.Keys.Order(StringComparer.Ordinal)]),
            Cases,
            async ids =>
            {
                var expected = model.Expect(ids);
                var what = $"{expected.Code} {expected.Why}";
                classes[what] = classes.GetValueOrDefault(what) + 1;

                // Assert (per case)
                await AssertReportAsync(mesh, ids, expected);
            },
            Print);

        // Assert
        TestContext.Current.TestOutputHelper?.WriteLine($"{cases} BuildReport calls: " + string.Join(", ", classes.Select(c => $"{c.Key} {c.Value}")));
        Assert.Equal(Cases, cases);
    }

    /// <summary>
    /// The README: "A per-currency total beyond int64 → FAILED_PRECONDITION". A total within int64 is answered, whatever
    /// order the accounts come in, even when a running sum in request order would pass long.MaxValue on the way.
    /// </summary>
    [Fact]
    public async Task BuildReport_OffsettingBalancesWithTotalWithinInt64_ReturnsTheTotalInAnyOrder()
    {
        // Arrange: balances a payments ledger of refunds/adjustments could hold; the fake serves them as given.
        await using var mesh = await ReportingTestHost.StartAsync();
        mesh.Fake.AddAccounts(3);
        foreach (var (id, balance) in new[] { ("big-1", long.MaxValue), ("neg-1", -long.MaxValue), ("neg-2", -1_000L), ("min-1", long.MinValue) })
        {
            mesh.Fake.Accounts[id] = (balance, 1, "USD");
        }

        var model = new ReportModel(
            mesh.Fake.Accounts.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal),
            mesh.Host.Services.GetRequiredService<IOptions<ReportingOptions>>().Value.MaxAccounts,
            mesh.Host.Services.GetRequiredService<IOptions<GrpcServiceOptions>>().Value.MaxReceiveMessageSize!.Value);
        var orders = Gen.Shuffle(model.Accounts.Keys.Order(StringComparer.Ordinal).ToArray(), 1, model.Accounts.Count);

        // Act + Assert
        var cases = await PropertyRun.CheckAsync(
            nameof(BuildReport_OffsettingBalancesWithTotalWithinInt64_ReturnsTheTotalInAnyOrder),
            orders,
            200,
            ids => AssertReportAsync(mesh, ids, model.Expect(ids)),
            Print);
        Assert.Equal(200, cases);
    }

    private static async Task AssertReportAsync(ReportingTestHost mesh, string[] ids, Expected expected)
    {
        BuildReportResponse? response = null;
        RpcException? error = null;
        try
        {
            response = await mesh.BuildReport(ReportingTestHost.Request(ids)).ResponseAsync.DefaultTimeout();
        }
        catch (RpcException e)
        {
            error = e;
        }

        var actual = error is null ? "OK" : $"{error.StatusCode}: {error.Status.Detail}";
        Assert.True(expected.Code == (error?.StatusCode ?? StatusCode.OK), $"Expected {expected.Code} ({expected.Why}), got {actual}.");
        if (error is not null)
        {
            foreach (var text in expected.MessageMentions)
            {
                Assert.True(error.Status.Detail.Contains(text, StringComparison.Ordinal), $"The {error.StatusCode} message must mention {text} ({expected.Why}): {error.Status.Detail}");
            }

            if (expected.AnyOf.Length > 0)
            {
                Assert.True(expected.AnyOf.Any(id => error.Status.Detail.Contains($"'{id}'", StringComparison.Ordinal)), $"The message must name one of {string.Join(", ", expected.AnyOf)} ({expected.Why}): {error.Status.Detail}");
            }

            return;
        }

        Assert.Equal(expected.Accounts, response!.Accounts.Select(a => (a.AccountId, a.BalanceMinor, a.PaymentCount, a.Currency)));
        Assert.Equal(expected.Totals, response.Totals.Select(t => (t.Currency, t.TotalMinor)));
        Assert.Equal(expected.Totals.Length == 1 ? expected.Totals[0].Total : 0, response.TotalMinor);
    }

    // ---- The model: the README's rules, in its order. ----

    private sealed record Expected(StatusCode Code, string Why, string[] MessageMentions)
    {
        public string[] AnyOf { get; init; } = [];

        public (string, long, long, string)[] Accounts { get; init; } = [];

        public (string Currency, long Total)[] Totals { get; init; } = [];
    }

    private sealed class ReportModel(Dictionary<string, (long Balance, long Count, string Currency)> accounts, int maxAccounts, int maxReceiveMessageSize)
    {
        public IReadOnlyDictionary<string, (long Balance, long Count, string Currency)> Accounts => accounts;

        public int MaxAccounts => maxAccounts;

        public Expected Expect(string[] ids)
        {
            var request = ReportingTestHost.Request(ids);
            if (request.CalculateSize() > maxReceiveMessageSize)
            {
                return new(StatusCode.ResourceExhausted, "message over the receive limit", ["exceeds the maximum configured message size"]);
            }

            if (ids.Length == 0)
            {
                return new(StatusCode.InvalidArgument, "no ids", ["account_ids"]);
            }

            if (ids.Length > maxAccounts)
            {
                return new(StatusCode.InvalidArgument, "too many ids", ["account_ids", maxAccounts.ToString(CultureInfo.InvariantCulture)]);
            }

            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < ids.Length; i++)
            {
                var at = $"account_ids[{i.ToString(CultureInfo.InvariantCulture)}]";
                if (ids[i].Length == 0)
                {
                    return new(StatusCode.InvalidArgument, "empty id", [at]);
                }

                if (!IsValidAccountId(ids[i]))
                {
                    return new(StatusCode.InvalidArgument, "malformed id", [at]);
                }

                if (seen.TryGetValue(ids[i], out var first))
                {
                    return new(StatusCode.InvalidArgument, "duplicate id", [at, $"account_ids[{first.ToString(CultureInfo.InvariantCulture)}]"]);
                }

                seen[ids[i]] = i;
            }

            var unknown = ids.Where(id => !accounts.ContainsKey(id)).ToArray();
            if (unknown.Length > 0)
            {
                // All or nothing: the first failed call (any of the unknown ones; calls run in parallel) names its id.
                return new(StatusCode.NotFound, "unknown account", []) { AnyOf = unknown };
            }

            var totals = new SortedDictionary<string, Int128>(StringComparer.Ordinal);
            foreach (var id in ids)
            {
                var (balance, _, currency) = accounts[id];
                totals[currency] = totals.GetValueOrDefault(currency) + balance;
            }

            var overflowing = totals.Where(t => t.Value > long.MaxValue || t.Value < long.MinValue).Select(t => t.Key).ToArray();
            if (overflowing.Length > 0)
            {
                // Which currency the message names is not documented when several overflow: any of them.
                return new(StatusCode.FailedPrecondition, "total beyond int64", []) { AnyOf = overflowing };
            }

            return new(StatusCode.OK, "report", [])
            {
                Accounts = [.. ids.Select(id => (id, accounts[id].Balance, accounts[id].Count, accounts[id].Currency))],
                Totals = [.. totals.Select(t => (t.Key, (long)t.Value))],
            };
        }

        // README: AccountIdRule, 1-64 characters of [A-Za-z0-9._-], anchored (a trailing newline is refused).
        private static bool IsValidAccountId(string id) =>
            id.Length is >= 1 and <= 64 && id.All(c => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-');
    }

    // ---- Generators. ----

    private static string Print(string[] ids)
    {
        static string Show(string id)
        {
            var escaped = string.Concat(id.Take(24).Select(c => char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString()));
            return id.Length > 24 ? $"\"{escaped}…\"({id.Length})" : $"\"{escaped}\"";
        }

        return $"{ids.Length} ids: " + string.Join(", ", ids.Take(12).Select(Show)) + (ids.Length > 12 ? ", …" : string.Empty);
    }

    private const string IdChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

    private static Gen<string[]> Requests(int maxAccounts, string[] known)
    {
        var knownId = Gen.OneOf(known);
        var usd = known.Where(id => id.StartsWith("acct-", StringComparison.Ordinal)).ToArray();
        var id = Gen.Frequency(
            (16, knownId),
            (1, Gen.Int[1, 9_999].Select(i => "nope-" + i.ToString(CultureInfo.InvariantCulture))),
            (1, Gen.Char[IdChars].Array[1, 64].Select(c => new string(c))),
            (1, Gen.Const(string.Empty)),
            (1, Gen.Char[IdChars].Array[65].Select(c => new string(c))),
            (1, Gen.Int[66, 2_000].Select(n => new string('a', n))),
            (1, Gen.Select(knownId, Gen.Char["\0\t\n\u001f\u007f\u0085"], Gen.Int[0, 12], (k, c, at) => k.Insert(Math.Min(at, k.Length), c.ToString()))),
            (1, knownId.Select(k => k + "\n")),
            (1, Gen.OneOf("acct-é", "账户", "acct-💳", "ａｃｃｔ-0001", "acct 0001", "acct/0001")));

        // A list whose ids are distinct but each from any class (duplicates are their own edge class below).
        var mixed = id.Array[1, 10].Select(a => a.Distinct(StringComparer.Ordinal).ToArray());
        var distinctKnown = (int count) => Gen.Shuffle(usd, count);

        return Gen.Frequency(
            (2, id.Select(i => new[] { i })),
            (10, mixed),
            (2, Gen.Shuffle(known, 1, Math.Min(known.Length, 12))),
            (1, Gen.Const(Array.Empty<string>())),
            (1, distinctKnown(Math.Min(usd.Length, maxAccounts))),
            (1, Gen.Select(distinctKnown(Math.Min(usd.Length, maxAccounts) - 1), id, (a, extra) => (string[])[.. a, extra])),
            (2, distinctKnown(Math.Min(usd.Length, maxAccounts + 1))),
            (1, Gen.Int[maxAccounts + 2, maxAccounts * 10].Select(n => Enumerable.Range(1, n).Select(i => "acct-" + i.ToString(CultureInfo.InvariantCulture)).ToArray())),
            (1, Gen.Int[1, 20].Select(n => Enumerable.Range(0, maxAccounts * 100).Select(i => "x" + i.ToString(CultureInfo.InvariantCulture)).Take(maxAccounts * 50 * n).ToArray())),
            // Duplicates: a copy of one element inserted elsewhere.
            (3, Gen.Select(mixed.Where(a => a.Length > 0), Gen.Int[0, 9], Gen.Int[0, 10], (a, from, to) => (string[])[.. a.Take(Math.Min(to, a.Length)), a[from % a.Length], .. a.Skip(Math.Min(to, a.Length))])),
            // Balances whose per-currency sum passes long.MaxValue, alone or with others.
            (2, Gen.Select(Gen.Shuffle(known, 0, 4), Gen.Int[0, 1], (others, which) =>
            {
                string[] big = which == 0 ? ["big-1", "big-2"] : ["eur-max", "eur-01"];
                return others.Except(big, StringComparer.Ordinal).Concat(big).ToArray();
            })));
    }
}
