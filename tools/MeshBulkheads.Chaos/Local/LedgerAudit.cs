using System.Text.Json.Nodes;
using Npgsql;

namespace MeshBulkheads.Chaos.Local;

/// <summary>
/// The exactly-once audit: the client's log of acknowledged charges (idempotency key → payment id) against
/// the payments table, and every touched account's balance and count against its payment rows.
/// </summary>
internal sealed record LedgerAudit(int Acknowledged, int Missing, int Duplicated, int CommittedUnacknowledged, int InconsistentAccounts)
{
    public bool ExactlyOnce => Missing == 0 && Duplicated == 0 && InconsistentAccounts == 0;

    public JsonObject ToJson() => new()
    {
        ["acknowledged"] = Acknowledged,
        ["missing"] = Missing,
        ["duplicated"] = Duplicated,
        ["committedUnacknowledged"] = CommittedUnacknowledged,
        ["inconsistentAccounts"] = InconsistentAccounts,
    };

    /// <summary>
    /// Audits <paramref name="calls"/> (one load run's charges, keys <c>run-stream-sequence</c>) of <paramref name="tenant"/>.
    /// Missing: an acknowledged key with no row. Duplicated: a key with more than one row, an acknowledged payment
    /// id that is not the stored one, or more rows for the run than calls it made. Inconsistent: an account whose
    /// balance or payment count differs from its rows (a half-written charge).
    /// </summary>
    public static async Task<LedgerAudit> RunAsync(string connectionString, string tenant, IReadOnlyList<CallRecord> calls, CancellationToken cancellationToken)
    {
        var charges = calls.Where(c => c.IdempotencyKey is not null).ToArray();
        var acknowledged = charges.Where(c => c.Status == "OK" && c.PaymentId is not null).ToDictionary(c => c.IdempotencyKey!, c => c.PaymentId!, StringComparer.Ordinal);
        var prefix = charges.Length == 0 ? "-" : charges[0].IdempotencyKey![..(charges[0].IdempotencyKey!.IndexOf('-', StringComparison.Ordinal) + 1)];
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

        var stored = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand("SELECT idempotency_key, payment_id FROM payments WHERE tenant_id = @tenant AND idempotency_key LIKE @prefix", connection))
        {
            command.Parameters.AddWithValue("tenant", tenant);
            command.Parameters.AddWithValue("prefix", prefix + "%");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var key = reader.GetString(0);
                if (!stored.TryGetValue(key, out var ids))
                {
                    stored[key] = ids = [];
                }

                ids.Add(reader.GetString(1));
            }
        }

        var missing = acknowledged.Count(a => !stored.ContainsKey(a.Key));
        var duplicated = stored.Count(s => s.Value.Count > 1)
            + acknowledged.Count(a => stored.TryGetValue(a.Key, out var ids) && !ids.Contains(a.Value, StringComparer.Ordinal))
            + Math.Max(0, stored.Count - charges.Length);
        var unacknowledged = stored.Keys.Count(k => !acknowledged.ContainsKey(k));

        int inconsistent;
        await using (var command = new NpgsqlCommand(
            """
            SELECT count(*) FROM accounts a
            LEFT JOIN (SELECT tenant_id, account_id, sum(amount_minor) AS total, count(*) AS n FROM payments GROUP BY tenant_id, account_id) p
              ON p.tenant_id = a.tenant_id AND p.account_id = a.account_id
            WHERE a.tenant_id = @tenant AND (a.balance_minor <> coalesce(p.total, 0) OR a.payment_count <> coalesce(p.n, 0))
            """, connection))
        {
            command.Parameters.AddWithValue("tenant", tenant);
            inconsistent = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }

        return new LedgerAudit(acknowledged.Count, missing, duplicated, unacknowledged, inconsistent);
    }
}
