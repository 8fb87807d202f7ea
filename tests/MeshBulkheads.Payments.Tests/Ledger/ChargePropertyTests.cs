using System.Data.Common;
using System.Globalization;
using CsCheck;
using Grpc.AspNetCore.Server;
using MeshBulkheads.Payments.Database;
using MeshBulkheads.Testing.Postgres;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>
/// Property-based tests of <c>Charge</c> on a real payments host (real Kestrel; PostgreSQL and SQLite ledgers): generated
/// scenarios of one to three charges, every edge class of every field drawn explicitly, each answer compared with
/// an independent model of the documented rules (proto, README, docs/sizing.md) applied to the ledger as read
/// before the call, and the ledger read again after it: a refusal leaves it row-for-row identical, an accepted
/// charge adds exactly its payment and moves the balance by exactly its amount, a retry replays without a new row.
/// </summary>
[Collection(LedgerCollection.Name)]
public sealed class ChargePropertyTests(PostgresFixture postgres)
{
    private const int Scenarios = 1_000;
    private const string Tenant = "acme";
    private const string OtherTenant = "globex";

    /// <summary>The longest idempotency key the README accepts ("&gt; 128-char … idempotency_key" is refused).</summary>
    private const int MaxKeyLength = 128;

    [Theory]
    [InlineData(DbPoolNames.Postgresql)]
    [InlineData(DbPoolNames.Sqlite)]
    public async Task Charge_GeneratedScenarios_AnswerTheDocumentedStatusAndRefusalsLeaveTheLedgerUnchanged(string backend)
    {
        // Arrange
        await using var scope = new PaymentsHostScope();
        KestrelHost host;
        if (backend == DbPoolNames.Postgresql)
        {
            postgres.EnsureAvailable();
            host = await scope.StartAsync(new Dictionary<string, string?> { ["Payments:ConnectionString"] = await postgres.CreateDatabaseAsync() });
        }
        else
        {
            host = await scope.StartSqliteAsync();
        }

        var clients = new Dictionary<string, PaymentsService.PaymentsServiceClient>(StringComparer.Ordinal)
        {
            [Tenant] = PaymentsHostScope.Client(host, Tenant),
            [OtherTenant] = PaymentsHostScope.Client(host, OtherTenant),
        };
        var options = host.Services.GetRequiredService<IOptions<PaymentsOptions>>().Value;
        var model = new ChargeModel(
            options.Currencies.Split(',', StringSplitOptions.TrimEntries),
            host.Services.GetRequiredService<IOptions<GrpcServiceOptions>>().Value.MaxReceiveMessageSize
                ?? throw new InvalidOperationException("payments sets a receive limit."));

        // The ledger read directly, beside the service: PostgreSQL by its connection string, SQLite by its file (read-only).
        await using DbConnection ledger = backend == DbPoolNames.Postgresql
            ? new NpgsqlConnection(options.ConnectionString)
            : new SqliteConnection($"Data Source={(PaymentsHostScope.Store<SqliteLedgerStore>(host)).DatabasePath};Mode=ReadOnly;Pooling=False");
        await ledger.OpenAsync(TestContext.Current.CancellationToken);
        var calls = 0;
        var classes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        LedgerSnapshot? current = null;

        // Act
        var cases = await PropertyRun.CheckAsync(
            $"{nameof(ChargePropertyTests)} ({backend})",
            Scenario,
            Scenarios,
            async scenario =>
            {
                foreach (var charge in scenario)
                {
                    // Calls are sequential: the ledger after one call is the ledger before the next (re-read after a failure).
                    var before = current ?? await LedgerSnapshot.ReadAsync(ledger);
                    current = null;
                    var expected = model.Expect(charge, before);
                    var outcome = await CallAsync(clients[charge.Tenant], charge);
                    var after = await LedgerSnapshot.ReadAsync(ledger);
                    calls++;
                    var what = $"{expected.Code} {expected.Why}";
                    classes[what] = classes.GetValueOrDefault(what) + 1;

                    // Assert (per call)
                    AssertOutcome(charge, expected, outcome, before, after);
                    current = after;
                }
            },
            Print);

        // Assert
        TestContext.Current.TestOutputHelper?.WriteLine($"{calls} Charge calls: " + string.Join(", ", classes.Select(c => $"{c.Key} {c.Value}")));
        Assert.Equal(Scenarios, cases);
        Assert.True(calls >= Scenarios, $"{calls} Charge calls for {Scenarios} scenarios.");
    }

    private static async Task<(ChargeResponse? Response, RpcException? Error)> CallAsync(PaymentsService.PaymentsServiceClient client, ChargeOp charge)
    {
        var request = charge.ToRequest();
        try
        {
            return (await client.ChargeAsync(request, cancellationToken: TestContext.Current.CancellationToken).ResponseAsync.DefaultTimeout(), null);
        }
        catch (RpcException error)
        {
            return (null, error);
        }
    }

    private static void AssertOutcome(ChargeOp charge, Expected expected, (ChargeResponse? Response, RpcException? Error) outcome, LedgerSnapshot before, LedgerSnapshot after)
    {
        var (response, error) = outcome;
        var actual = error is null ? "OK" : $"{error.StatusCode}: {error.Status.Detail}";
        Assert.True(
            expected.Code == (error?.StatusCode ?? StatusCode.OK),
            $"Expected {expected.Code} ({expected.Why}), got {actual}.");

        switch (expected.Code)
        {
            case StatusCode.OK when expected.Replay is { } original:
                Assert.True(response!.Replayed, "A retry with the same key and payload must say it replayed.");
                Assert.Equal(original.PaymentId, response.PaymentId);
                Assert.Equal(original.BalanceAfterMinor, response.BalanceMinor);
                Assert.True(before.Equals(after), "A replay must not change the ledger: " + before.Difference(after));
                break;
            case StatusCode.OK:
                Assert.False(response!.Replayed, "A new charge must not say it replayed.");
                Assert.Equal(expected.BalanceAfterMinor, response.BalanceMinor);
                Assert.True(
                    before.WithCharge(charge, response.PaymentId, expected.BalanceAfterMinor).Equals(after),
                    "An accepted charge must add exactly its payment and move its account's balance by exactly its amount: " +
                    before.WithCharge(charge, response.PaymentId, expected.BalanceAfterMinor).Difference(after));
                break;
            default:
                foreach (var text in expected.MessageMentions)
                {
                    Assert.True(error!.Status.Detail.Contains(text, StringComparison.Ordinal), $"The {error.StatusCode} message must mention '{text}' ({expected.Why}): {error.Status.Detail}");
                }

                Assert.True(before.Equals(after), $"A refused charge ({expected.Code}) must leave the ledger unchanged: " + before.Difference(after));
                break;
        }
    }

    // ---- The model: the documented rules, applied in the service's documented order to the ledger before the call. ----

    private sealed record Expected(StatusCode Code, string Why, string[] MessageMentions, long BalanceAfterMinor = 0, PaymentRow? Replay = null);

    private sealed class ChargeModel(IReadOnlyCollection<string> currencies, int maxReceiveMessageSize)
    {
        public Expected Expect(ChargeOp charge, LedgerSnapshot ledger)
        {
            // docs/sizing.md: a message over the receive limit is refused from its length prefix, before parsing.
            var size = charge.ToRequest().CalculateSize();
            if (size > maxReceiveMessageSize)
            {
                return new(StatusCode.ResourceExhausted, "message over the receive limit", ["exceeds the maximum configured message size"]);
            }

            if (!IsValidAccountId(charge.AccountId))
            {
                return new(StatusCode.InvalidArgument, "account_id", ["account_id"]);
            }

            if (charge.Key.Length == 0 || charge.Key.Length > MaxKeyLength || charge.Key.Any(IsControl))
            {
                return new(StatusCode.InvalidArgument, "idempotency_key", ["idempotency_key"]);
            }

            if (charge.Amount <= 0)
            {
                return new(StatusCode.InvalidArgument, "amount_minor", ["amount_minor"]);
            }

            if (!currencies.Contains(charge.Currency, StringComparer.Ordinal))
            {
                return new(StatusCode.InvalidArgument, "currency", ["currency"]);
            }

            // Idempotent per tenant: the same payload replays, another payload conflicts.
            if (ledger.Payments.FirstOrDefault(p => p.TenantId == charge.Tenant && p.IdempotencyKey == charge.Key) is { } earlier)
            {
                return earlier.AccountId == charge.AccountId && earlier.AmountMinor == charge.Amount && earlier.Currency == charge.Currency
                    ? new(StatusCode.OK, "replay", [], earlier.BalanceAfterMinor, earlier)
                    : new(StatusCode.AlreadyExists, "key used for another payload", ["idempotency_key"]);
            }

            var account = ledger.Accounts.FirstOrDefault(a => a.TenantId == charge.Tenant && a.AccountId == charge.AccountId);
            if (account is not null && account.Currency != charge.Currency)
            {
                return new(StatusCode.FailedPrecondition, "currency fixed by the first charge", [account.Currency, charge.Currency]);
            }

            var balance = (Int128)(account?.BalanceMinor ?? 0) + charge.Amount;
            if (balance > long.MaxValue)
            {
                return new(StatusCode.FailedPrecondition, "balance over int64", ["balance_minor", account!.BalanceMinor.ToString(CultureInfo.InvariantCulture)]);
            }

            return new(StatusCode.OK, "new charge", [], (long)balance);
        }

        // README: 1-64 characters of [A-Za-z0-9._-], anchored (a trailing newline is refused).
        private static bool IsValidAccountId(string id) =>
            id.Length is >= 1 and <= 64 && id.All(c => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-');

        // README: "control-character (NUL, newline, …)": C0, DEL and C1.
        private static bool IsControl(char c) => c <= '\u001f' || c is >= '\u007f' and <= '\u009f';
    }

    // ---- The ledger as rows, read straight from PostgreSQL. ----

    private sealed record AccountRow(string TenantId, string AccountId, string Currency, long BalanceMinor, long PaymentCount);

    private sealed record PaymentRow(long Seq, string PaymentId, string TenantId, string AccountId, long AmountMinor, string Currency, string IdempotencyKey, long BalanceAfterMinor, long CreatedAtUs);

    private sealed record LedgerSnapshot(IReadOnlyList<AccountRow> Accounts, IReadOnlyList<PaymentRow> Payments)
    {
        public static async Task<LedgerSnapshot> ReadAsync(DbConnection connection)
        {
            var ct = TestContext.Current.CancellationToken;
            // Ordinal order on both backends (SQLite compares text as bytes by default).
            var ordinal = connection is NpgsqlConnection ? " COLLATE \"C\"" : string.Empty;
            var accounts = new List<AccountRow>();
            await using (var command = Command(connection, $"SELECT tenant_id, account_id, currency, balance_minor, payment_count FROM accounts ORDER BY tenant_id{ordinal}, account_id{ordinal}"))
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    accounts.Add(new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4)));
                }
            }

            var payments = new List<PaymentRow>();
            await using (var command = Command(connection, "SELECT seq, payment_id, tenant_id, account_id, amount_minor, currency, idempotency_key, balance_after_minor, created_at_us FROM payments ORDER BY seq"))
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    payments.Add(new(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetString(5), reader.GetString(6), reader.GetInt64(7), reader.GetInt64(8)));
                }
            }

            return new(accounts, payments);
        }

        private static DbCommand Command(DbConnection connection, string sql)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            return command;
        }

        /// <summary>What the ledger must be after <paramref name="charge"/> is recorded as <paramref name="paymentId"/> (the new row's seq and time are the server's).</summary>
        public LedgerSnapshot WithCharge(ChargeOp charge, string paymentId, long balanceAfter)
        {
            var accounts = Accounts.Where(a => !(a.TenantId == charge.Tenant && a.AccountId == charge.AccountId)).ToList();
            var count = Accounts.FirstOrDefault(a => a.TenantId == charge.Tenant && a.AccountId == charge.AccountId)?.PaymentCount ?? 0;
            accounts.Add(new(charge.Tenant, charge.AccountId, charge.Currency, balanceAfter, count + 1));
            accounts.Sort((x, y) => string.CompareOrdinal(x.TenantId + "\0" + x.AccountId, y.TenantId + "\0" + y.AccountId));
            return new(accounts, [.. Payments, new PaymentRow(-1, paymentId, charge.Tenant, charge.AccountId, charge.Amount, charge.Currency, charge.Key, balanceAfter, -1)]);
        }

        public bool Equals(LedgerSnapshot? other) =>
            other is not null && Accounts.SequenceEqual(other.Accounts) && Payments.Count == other.Payments.Count
            && Payments.Zip(other.Payments).All(p => SamePayment(p.First, p.Second));

        public override int GetHashCode() => HashCode.Combine(Accounts.Count, Payments.Count);

        public string Difference(LedgerSnapshot other)
        {
            var missing = Accounts.Except(other.Accounts).Select(a => "expected " + a);
            var extra = other.Accounts.Except(Accounts).Select(a => "found " + a);
            var payments = Payments.Count == other.Payments.Count
                ? Payments.Zip(other.Payments).Where(p => !SamePayment(p.First, p.Second)).Select(p => $"expected {p.First}, found {p.Second}")
                : [$"expected {Payments.Count} payments, found {other.Payments.Count} (last: {(other.Payments.Count > 0 ? other.Payments[^1] : null)})"];
            return string.Join("; ", missing.Concat(extra).Concat(payments).Take(6));
        }

        // -1 stands for "any": the seq and time a new payment gets are the server's to choose.
        private static bool SamePayment(PaymentRow expected, PaymentRow actual) =>
            expected with { Seq = expected.Seq < 0 ? actual.Seq : expected.Seq, CreatedAtUs = expected.CreatedAtUs < 0 ? actual.CreatedAtUs : expected.CreatedAtUs } == actual;
    }

    // ---- Generators: every edge class of every field drawn explicitly, next to plain valid values. ----

    /// <summary>One Charge as the test sends it, under a tenant.</summary>
    public sealed record ChargeOp(string Tenant, string AccountId, long Amount, string Currency, string Key)
    {
        public ChargeRequest ToRequest() => new() { AccountId = AccountId, AmountMinor = Amount, Currency = Currency, IdempotencyKey = Key };

        public override string ToString() => $"{Tenant}: account_id {Show(AccountId)}, amount_minor {Amount}, currency {Show(Currency)}, idempotency_key {Show(Key)}";

        private static string Show(string value)
        {
            var escaped = string.Concat(value.Take(40).Select(c => char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString()));
            return value.Length > 40 ? $"\"{escaped}…\" ({value.Length} chars)" : $"\"{escaped}\"";
        }
    }

    private static string Print(ChargeOp[] scenario) => string.Join(" | ", scenario.Select(c => c.ToString()));

    private const string IdChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

    private static readonly Gen<string> ValidRandomId = Gen.Char[IdChars].Array[1, 64].Select(c => new string(c));

    private static readonly Gen<string> AccountId = Gen.Frequency(
        (12, Gen.Int[1, 12].Select(i => "acct-" + i.ToString("00", CultureInfo.InvariantCulture))),
        (3, ValidRandomId),
        (1, Gen.Char[IdChars].Array[64].Select(c => new string(c))),
        (1, Gen.Const(string.Empty)),
        (1, Gen.Char[IdChars].Array[65].Select(c => new string(c))),
        (1, Gen.Int[65, 3_000].Select(n => new string('a', n))),
        (1, Gen.Int[10_000, 12_000].Select(n => new string('x', n))),
        (1, Gen.Select(ValidRandomId, Gen.Char["\0\t\n\r\u001f\u007f\u0085"], Gen.Int[0, 64], (id, c, at) => id.Insert(Math.Min(at, id.Length), c.ToString()))),
        (1, Gen.Int[1, 12].Select(i => "acct-" + i.ToString("00", CultureInfo.InvariantCulture) + "\n")),
        (1, Gen.OneOf("acct-é", "账户-1", "acct-💳", "ａｃｃｔ", "acct 1", "acct/1")));

    private static readonly Gen<long> Amount = Gen.Frequency(
        (12, Gen.Long[1, 1_000_000]),
        (1, Gen.Const(1L)),
        (2, Gen.Const(0L)),
        (1, Gen.Const(-1L)),
        (1, Gen.Long[long.MinValue, -1]),
        (1, Gen.Const(long.MinValue)),
        (1, Gen.Const(long.MaxValue)),
        (1, Gen.Long[long.MaxValue - 1_000, long.MaxValue]));

    private static readonly Gen<string> Currency = Gen.Frequency(
        (12, Gen.OneOf("USD", "EUR", "GBP")),
        (1, Gen.OneOf("usd", "Eur")),
        (1, Gen.OneOf("US", "USDD", "U", new string('U', 1_000))),
        (1, Gen.OneOf("JPY", "XXX", "ABC")),
        (1, Gen.Const(string.Empty)),
        (1, Gen.OneOf("€", "ＵＳＤ", "U\u0000D", " USD", "USD\n", "💶")));

    private static readonly Gen<string> FreshKey = Gen.Guid.Select(g => g.ToString("N"));

    private static readonly Gen<string> Key = Gen.Frequency(
        (8, FreshKey),
        (4, Gen.Int[1, 10].Select(i => "key-" + i.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.Const(string.Empty)),
        (1, Gen.Char[IdChars].Array[MaxKeyLength].Select(c => new string(c))),
        (1, Gen.Char[IdChars].Array[MaxKeyLength + 1].Select(c => new string(c))),
        (1, Gen.Int[MaxKeyLength + 2, 3_000].Select(n => new string('k', n))),
        (1, Gen.Int[10_000, 12_000].Select(n => new string('k', n))),
        (1, Gen.Select(FreshKey, Gen.Char["\0\n\u0007\u001f\u007f\u0085\u009f"], (k, c) => k[..5] + c + k[5..])),
        (1, Gen.OneOf("clé-🔑", "ключ", "鍵" + new string('鍵', 127), "k\0", "key-1\n")));

    private static readonly Gen<string> TenantOf = Gen.Frequency((4, Gen.Const(Tenant)), (1, Gen.Const(OtherTenant)));

    private static readonly Gen<ChargeOp> AnyCharge = Gen.Select(TenantOf, AccountId, Amount, Currency, Key, (t, a, m, c, k) => new ChargeOp(t, a, m, c, k));

    private static readonly Gen<ChargeOp> ValidCharge = Gen.Select(
        Gen.Int[1, 12].Select(i => "acct-" + i.ToString("00", CultureInfo.InvariantCulture)), Gen.Long[1, 1_000_000], FreshKey, (a, m, k) => new ChargeOp(Tenant, a, m, "USD", k));

    private static readonly Gen<ChargeOp[]> Scenario = Gen.Frequency(
        // One charge, any field from any edge class.
        (10, AnyCharge.Select(c => new[] { c })),
        // The same request twice: a retry replays (or is refused the same way) and never duplicates.
        (3, AnyCharge.Select(c => new[] { c, c })),
        // The same key under two tenants: two independent charges.
        (2, Gen.Select(ValidCharge, Gen.Long[1, 1_000_000], (c, other) => new[] { c, c with { Tenant = OtherTenant, Amount = other } })),
        // The same key with a different amount (or account or currency): ALREADY_EXISTS, nothing recorded.
        (2, Gen.Select(ValidCharge, Gen.Long[1, 1_000], Gen.Int[0, 2], (c, delta, what) => new[]
        {
            c,
            what switch
            {
                0 => c with { Amount = c.Amount + delta },
                1 => c with { AccountId = c.AccountId + "x" },
                _ => c with { Currency = "EUR" },
            },
        })),
        // Two charges that together reach or overflow long.MaxValue on a fresh account, then a retry of the first.
        (2, Gen.Select(Gen.Long[0, 1_000], Gen.Long[1, 2_000], FreshKey, FreshKey, (headroom, second, k1, k2) =>
        {
            var first = new ChargeOp(Tenant, "ovf-" + k1[..12], long.MaxValue - headroom, "GBP", k1);
            return new[] { first, first with { Amount = second, Key = k2 }, first };
        })),
        // A second currency on an account whose first charge fixed another.
        (1, Gen.Select(ValidCharge, FreshKey, (c, k) => new[] { c with { AccountId = "cur-" + k[..10] }, c with { AccountId = "cur-" + k[..10], Currency = "EUR", Key = k } })));
}
