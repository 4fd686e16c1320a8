//! Group commit of submissions: starts that arrive while a transaction is being written wait and
//! go together into the next one, so that a node's rate of accepted submissions is not one fsync
//! per submission. Every submission is answered only after its transaction is durable.

use jiff::Timestamp;
use tokio::sync::{mpsc, oneshot};

use crate::{Engine, EngineError, Gateway, Result, Start};

type Waiting = (Start, oneshot::Sender<Result<String>>);

/// A handle to a node's committer task; cheap to clone.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Waiting>,
}

impl GroupCommit {
    /// Starts the committer. `max_batch` bounds a transaction; the queue holds four batches before
    /// callers wait (back-pressure instead of unbounded memory).
    pub fn spawn<G: Gateway>(engine: Engine<G>, max_batch: usize) -> Self {
        let max_batch = max_batch.max(1);
        let (queue, mut waiting) = mpsc::channel::<Waiting>(max_batch * 4);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(max_batch);
            while waiting.recv_many(&mut batch, max_batch).await > 0 {
                let (starts, replies): (Vec<Start>, Vec<_>) = batch.drain(..).unzip();
                match engine.start_batch(starts, Timestamp::now()).await {
                    Ok(answers) => {
                        for (reply, answer) in replies.into_iter().zip(answers) {
                            let _ = reply.send(answer);
                        }
                    }
                    Err(e) => {
                        let message = e.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(EngineError::Batch(message.clone())));
                        }
                    }
                }
            }
        });
        GroupCommit { queue }
    }

    /// Starts an application with the next group of submissions; answers once it is durable.
    pub async fn start(&self, start: Start) -> Result<String> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((start, reply))
            .await
            .map_err(|_| EngineError::Batch("the committer has stopped".into()))?;
        answer
            .await
            .map_err(|_| EngineError::Batch("the committer has stopped".into()))?
    }
}
