//! Cleaning up after tests that write to the shared Redis (`mod redis_keys;` in each).

/// Deletes every key under `prefix` on the Redis at `url` (`KEYS` is fine on a test server).
pub(crate) async fn delete(url: &str, prefix: &str) {
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut connection)
        .await
        .unwrap();
    if !keys.is_empty() {
        let () = redis::cmd("DEL")
            .arg(keys)
            .query_async(&mut connection)
            .await
            .unwrap();
    }
}
