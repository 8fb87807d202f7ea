using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.Payments;

/// <summary>Configuration of the payments service (section <c>Payments</c>).</summary>
public sealed class PaymentsOptions : IValidatableObject
{
    public const string SectionName = "Payments";

    /// <summary>The subsection of <see cref="PageTokens"/>.</summary>
    public const string PageTokensSectionName = "PageTokens";

    /// <summary>Directory of the SQLite file <c>payments.db</c>, created if missing.</summary>
    /// <value>The default value is <c>data</c>, relative to the current directory.</value>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>A PostgreSQL connection string; when set, PostgreSQL replaces the embedded SQLite ledger.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Comma-separated ISO 4217 codes accepted by <c>Charge</c>.</summary>
    /// <value>The default value is <c>USD,EUR,GBP</c>.</value>
    [Required]
    [RegularExpression("^[A-Z]{3}(,[A-Z]{3})*$", ErrorMessage = "Payments:Currencies must be comma-separated ISO 4217 codes, e.g. 'USD,EUR,GBP'.")]
    public string Currencies { get; set; } = "USD,EUR,GBP";

    /// <summary>Page size used when a request asks for 0.</summary>
    /// <value>The default value is 20; valid range 1-1000 and at most <see cref="MaxPageSize"/>.</value>
    [Range(1, 1000)]
    public int DefaultPageSize { get; set; } = 20;

    /// <summary>Largest page size a request may ask for.</summary>
    /// <value>The default value is 100; valid range 1-1000.</value>
    [Range(1, 1000)]
    public int MaxPageSize { get; set; } = 100;

    /// <summary>Whether demo data is seeded at start-up.</summary>
    /// <value>
    /// The default (unset) seeds in the Development environment only (<c>make run</c>), so a production
    /// ledger never gets demo accounts; the Helm chart's demo profile sets it to <see langword="true"/>.
    /// </value>
    public bool? Seed { get; set; }

    /// <summary>Whether to seed: <see cref="Seed"/>, or when unset whether the host runs in Development.</summary>
    public bool ShouldSeed(bool isDevelopment) => Seed ?? isDevelopment;

    /// <summary>Comma-separated tenants that get the demo accounts <c>acct-0001</c> … <c>acct-0100</c>.</summary>
    /// <value>The default value is <c>acme,globex,initech</c>.</value>
    [RegularExpression("^([a-z0-9][a-z0-9-]{0,63}(,[a-z0-9][a-z0-9-]{0,63})*)?$", ErrorMessage = "Payments:SeedTenants must be comma-separated tenant ids (a-z, 0-9, '-').")]
    public string SeedTenants { get; set; } = "acme,globex,initech";

    /// <summary>The database connection pools.</summary>
    [ValidateObjectMembers]
    public DatabaseOptions Database { get; set; } = new();

    /// <summary>The keyed charge partitions (per-account mailboxes).</summary>
    [ValidateObjectMembers]
    public PartitionOptions Partitions { get; set; } = new();

    /// <summary>Switches that reproduce the seed's "avoid" cells on demand; all off by default.</summary>
    [ValidateObjectMembers]
    public PitfallOptions Pitfalls { get; set; } = new();

    /// <summary>The keys that seal <c>ListPayments</c> page tokens (section <c>Payments:PageTokens</c>).</summary>
    public PageTokenOptions PageTokens { get; set; } = new();

    /// <summary>The configured currencies as a set.</summary>
    public IReadOnlySet<string> CurrencySet() => Currencies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);

    /// <summary>The rules between settings; the generated <see cref="PaymentsOptionsValidator"/> calls it.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DefaultPageSize > MaxPageSize)
        {
            yield return new ValidationResult("Payments:DefaultPageSize must not exceed Payments:MaxPageSize.", [nameof(DefaultPageSize)]);
        }

        foreach (var problem in PageTokens.Problems())
        {
            yield return new ValidationResult($"{SectionName}:{PageTokensSectionName}:{problem}", [nameof(PageTokens)]);
        }
    }

    /// <summary>The configured seed tenants.</summary>
    public IReadOnlyList<string> SeedTenantList() => SeedTenants.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>
/// Bounded, partitioned connection pools in front of the ledger (section <c>Payments:Database</c>).
/// Charges and reads have separate pools so a flood of reads can never starve charges.
/// </summary>
public sealed class DatabaseOptions
{
    /// <summary>Connections for <c>Charge</c> (PostgreSQL).</summary>
    /// <value>The default value is 4; valid range 1-256. SQLite always uses one writer connection.</value>
    [Range(1, 256)]
    public int ChargePoolSize { get; set; } = 4;

    /// <summary>Connections for <c>GetBalance</c> and <c>ListPayments</c>.</summary>
    /// <value>The default value is 8; valid range 1-256.</value>
    [Range(1, 256)]
    public int ReadPoolSize { get; set; } = 8;

    /// <summary>How long a call may wait for a pooled connection before it fails with <c>UNAVAILABLE</c>.</summary>
    /// <value>The default value is 2 seconds; valid range 1 ms to 1 minute.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan MaxPoolWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A pooled PostgreSQL connection idle at least this long is pinged (<c>SELECT 1</c>) before it is handed out;
    /// a dead one (e.g. after a server restart) is closed with every other idle one and replaced.
    /// </summary>
    /// <value>The default value is 1 second; valid range 0 (ping every time) to 1 hour.</value>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ValidateIdleAfter { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// The AES-256-GCM keys of <c>ListPayments</c> page tokens (section <c>Payments:PageTokens</c>; the chart puts them in a
/// Secret shared by every payments replica). Rotation: add the new key, make it <see cref="CurrentKeyId"/>, remove the
/// old one once its tokens may be refused (a client then restarts from the first page).
/// </summary>
public sealed class PageTokenOptions
{
    /// <summary>Key id → base64 of exactly 32 random bytes (e.g. <c>openssl rand -base64 32</c>); ids are 1-32 of <c>[A-Za-z0-9_-]</c>.</summary>
    /// <value>The default is none: the process generates a key of its own at start (tokens then do not survive a restart or cross replicas).</value>
    public Dictionary<string, string> Keys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The key id new tokens are sealed with; required when <see cref="Keys"/> is not empty.</summary>
    public string? CurrentKeyId { get; set; }

    /// <summary>What is wrong with the keys, each naming the setting and never a key's value.</summary>
    internal IEnumerable<string> Problems()
    {
        foreach (var (id, value) in Keys)
        {
            if (id.Length is 0 or > 32 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                yield return $"Keys: key id '{EchoedId(id)}' must be 1-32 characters of A-Z, a-z, 0-9, '-' and '_'";
            }

            if (!IsKey(value))
            {
                yield return $"Keys:{EchoedId(id)} must be the base64 of exactly 32 random bytes (openssl rand -base64 32)";
            }
        }

        if (Keys.Count > 0 && (CurrentKeyId is null || !Keys.ContainsKey(CurrentKeyId)))
        {
            yield return $"CurrentKeyId must name one of the configured keys ({string.Join(", ", Keys.Keys.Select(EchoedId).Order(StringComparer.Ordinal))})";
        }
    }

    private static bool IsKey(string? value)
    {
        Span<byte> key = stackalloc byte[33];
        return value is not null && Convert.TryFromBase64String(value, key, out var length) && length == 32;
    }

    private static string EchoedId(string id) => id.Length <= 32 ? id : id[..32] + "…";
}

/// <summary>
/// Keyed partitions for charges (section <c>Payments:Partitions</c>): hash(tenant, account) picks one of
/// <see cref="Count"/> single-consumer mailboxes, so one account's charges run in submission order and
/// one hot account fills only its own mailbox.
/// </summary>
public sealed class PartitionOptions
{
    /// <summary>Number of mailboxes, each with one consumer (at most this many charges run at once).</summary>
    /// <value>The default value is 16; valid range 1-1024.</value>
    [Range(1, 1024)]
    public int Count { get; set; } = 16;

    /// <summary>Charges one mailbox may hold waiting; a full mailbox rejects with <c>partition-full</c>.</summary>
    /// <value>The default value is 16; valid range 1-100000. Keep it below the <c>payments-charge</c> permit limit so one hot account cannot hold every permit.</value>
    [Range(1, 100_000)]
    public int MailboxCapacity { get; set; } = 16;
}

/// <summary>
/// Pitfall switches (section <c>Payments:Pitfalls</c>): each reproduces a design the seed says to avoid,
/// so its symptom can be seen on a dashboard. Never turn them on in production.
/// </summary>
public sealed class PitfallOptions
{
    /// <summary>
    /// One global queue with <see cref="PartitionOptions.Count"/> consumers instead of per-account mailboxes:
    /// charges of one account may run concurrently and commit out of submission order.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool GlobalQueue { get; set; }

    /// <summary>
    /// Database calls are blocked on with <c>.GetAwaiter().GetResult()</c> on the request thread
    /// (sync-over-async): the shared thread pool starves under concurrent calls.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool SyncOverAsync { get; set; }

    /// <summary>Extra latency added (asynchronously) to every ledger call, to simulate a slow database.</summary>
    /// <value>The default value is zero (off); valid range 0 to 1 minute.</value>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ExtraQueryLatency { get; set; }
}

/// <summary>Source-generated validator for <see cref="PaymentsOptions"/> (no reflection at start-up).</summary>
[OptionsValidator]
public sealed partial class PaymentsOptionsValidator : IValidateOptions<PaymentsOptions>
{
}
