/**
 * @module console/assets/asset-urls
 * Where pages find the console's bundled files. Assets are revalidated by ETag, so a URL needs no
 * content hash.
 */
export const ASSET_PREFIX = '/console/assets/';

export function assetUrl(name: string): string {
  return `${ASSET_PREFIX}${name}`;
}
