// The guard's offline queue in IndexedDB: scans made without a network, kept until the batch
// endpoint has acknowledged them (each item carries its own client_id, so a re-send is a replay).
const DB_NAME = 'wuye-guard';
const STORE = 'scans';

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'client_id' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, action) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = action(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(result?.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** Keep one scan (a batch item: kind, client_id, device_time, ...). */
export const enqueue = (item) => run('readwrite', (store) => store.put(item));
/** Every queued scan, oldest first. */
export const queued = async () => ((await run('readonly', (store) => store.getAll())) || [])
  .sort((a, b) => a.device_time.localeCompare(b.device_time));
/** Forget scans the server has answered. */
export const remove = (clientIds) => run('readwrite', (store) => clientIds.forEach((id) => store.delete(id)));
