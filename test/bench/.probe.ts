import { benchFanout, fanoutDetails, fanoutRows } from './fanout.bench';
(async () => {
  const t = Date.now();
  const m = await benchFanout([{ devices: 100, concurrency: 16 }, { devices: 10000, concurrency: 16 }, { devices: 10000, concurrency: 64 }]);
  console.log(fanoutRows(m), fanoutDetails(m));
  console.log('took', Date.now() - t);
})();
