import { benchColdStart, bundleDetails, coldStartRows } from './cold-start.bench';
(async () => {
  const t = Date.now();
  const m = await benchColdStart(11);
  console.log(coldStartRows(m), bundleDetails(m));
  console.log('took', Date.now() - t);
})();
