//! `TextNotificationProvider`: writes each message to `SMSMessage_N.txt` in a folder (a sandbox
//! and a trace for operators). Numbers continue after the highest file present at start-up, with
//! no rescan per message; each file appears whole (temporary file, then a no-clobber link). Files
//! are not flushed to disk one by one: that is left to the operating system (DECISIONS 39).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use super::{Gateway, GatewayError, SendOutcome};
use crate::config::ProviderSettings;

/// The text-file provider.
pub struct TextFileGateway {
    name: String,
    folder: PathBuf,
    next: Arc<AtomicU64>,
}

impl TextFileGateway {
    /// Builds the provider for `DestinationFolder` (default `sent_notification`), creating it.
    pub fn from_settings(p: &ProviderSettings) -> Result<Self, GatewayError> {
        let folder = p
            .param_str("DestinationFolder")
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "sent_notification".into());
        Self::new(&p.name, PathBuf::from(folder)).map_err(|e| GatewayError::Config {
            provider: p.name.clone(),
            message: e,
        })
    }

    /// A provider writing into `folder`, created when missing.
    pub fn new(name: &str, folder: PathBuf) -> Result<Self, String> {
        std::fs::create_dir_all(&folder)
            .map_err(|e| format!("cannot create folder {}: {e}", folder.display()))?;
        let highest = highest_number(&folder)
            .map_err(|e| format!("cannot read folder {}: {e}", folder.display()))?;
        Ok(TextFileGateway {
            name: name.to_string(),
            folder,
            next: Arc::new(AtomicU64::new(highest + 1)),
        })
    }

    /// The folder messages are written to.
    pub fn folder(&self) -> &Path {
        &self.folder
    }
}

/// Writes one message file into `folder`: a temporary file, then linked under the next free
/// number (never overwriting one, even when another process writes into the same folder).
fn write(folder: &Path, next: &AtomicU64, phone: &str, text: &str) -> std::io::Result<PathBuf> {
    use std::io::Write;
    std::fs::create_dir_all(folder)?;
    let tmp = folder.join(format!(
        ".SMSMessage_{}_{}.tmp",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    {
        let mut f = std::fs::File::create(&tmp)?;
        write!(f, "To: {phone}\n\n{text}")?;
    }
    let result = loop {
        let n = next.fetch_add(1, Ordering::SeqCst);
        let target = folder.join(format!("SMSMessage_{n}.txt"));
        match std::fs::hard_link(&tmp, &target) {
            Ok(()) => break Ok(target),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => break Err(e),
        }
    };
    let _ = std::fs::remove_file(&tmp);
    result
}

fn highest_number(folder: &Path) -> std::io::Result<u64> {
    let mut highest = 0;
    for entry in std::fs::read_dir(folder)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name
            .strip_prefix("SMSMessage_")
            .and_then(|r| r.strip_suffix(".txt"))
            .and_then(|d| d.parse::<u64>().ok())
        {
            highest = highest.max(n);
        }
    }
    Ok(highest)
}

#[async_trait]
impl Gateway for TextFileGateway {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, phone: &str, text: &str) -> SendOutcome {
        // On the blocking pool, so that `send_concurrency` files are written at once.
        let (folder, next) = (self.folder.clone(), self.next.clone());
        let (phone, text) = (phone.to_string(), text.to_string());
        let written =
            tokio::task::spawn_blocking(move || write(&folder, &next, &phone, &text)).await;
        match written {
            Ok(Ok(_)) => SendOutcome::Delivered,
            Ok(Err(e)) => {
                SendOutcome::Failed(format!("cannot write into {}: {e}", self.folder.display()))
            }
            // The task panicked or was cancelled: the file may or may not exist.
            Err(e) => SendOutcome::Unknown(format!("writing into {}: {e}", self.folder.display())),
        }
    }
}
