import { UPNP_SERVICES } from './constants.js'
import { PortmapError } from './errors.js'
import { escapeXml, xmlElements, xmlLeaves, xmlText } from './xml.js'

/**
 * UPnP IGD codecs: the device description (UDA 1.1 §2.3) and SOAP control messages (UDA 1.1 §3.2).
 * Pure functions over strings; `http.ts` does the I/O.
 */

/** A WAN connection service found in a device description. */
export interface IgdService {
  serviceType: (typeof UPNP_SERVICES)[number]
  controlUrl: URL
}

/** One SOAP request: the body and the two headers an IGD needs. */
export interface SoapRequest {
  body: string
  headers: { 'content-type': string; soapaction: string }
}

/**
 * WAN connection services of a description, most preferred first (order of `UPNP_SERVICES`).
 * Control URLs resolve against `<URLBase>` or the description URL, and must stay on the description's
 * host and port: an IGD's reply must not steer us to some other host (spec/portmap.md §5).
 */
export function decodeDescription(xml: string, location: URL): IgdService[] {
  const base = parseUrl(xmlText(xml, 'URLBase'), location) ?? location
  const found: IgdService[] = []
  for (const block of xmlElements(xml, 'service')) {
    const serviceType = UPNP_SERVICES.find((t) => t === xmlText(block, 'serviceType'))
    const controlUrl = parseUrl(xmlText(block, 'controlURL'), base)
    if (serviceType && controlUrl && controlUrl.host === location.host)
      found.push({ serviceType, controlUrl })
  }
  return found.sort((a, b) => UPNP_SERVICES.indexOf(a.serviceType) - UPNP_SERVICES.indexOf(b.serviceType))
}

/** A SOAP action request (UDA 1.1 §3.2.1). Arguments keep their order, as the service table lists them. */
export function encodeSoapRequest(
  serviceType: string,
  action: string,
  args: ReadonlyArray<readonly [string, string | number]>,
): SoapRequest {
  const argXml = args.map(([name, value]) => `<${name}>${escapeXml(String(value))}</${name}>`).join('')
  const body =
    '<?xml version="1.0"?>\r\n' +
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ' +
    's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>' +
    `<u:${action} xmlns:u="${escapeXml(serviceType)}">${argXml}</u:${action}>` +
    '</s:Body></s:Envelope>\r\n'
  return {
    body,
    headers: { 'content-type': 'text/xml; charset="utf-8"', soapaction: `"${serviceType}#${action}"` },
  }
}

/**
 * Decodes the reply to `action`: its output arguments, or throws PORTMAP_SOAP_FAULT with the
 * UPnPError code (UDA 1.1 §3.2.2), PORTMAP_HTTP for another failure, PORTMAP_MALFORMED for junk.
 */
export function decodeSoapResponse(action: string, status: number, body: string): Map<string, string> {
  const fault = xmlElements(body, 'UPnPError')[0]
  if (fault !== undefined) throw faultError(action, fault)
  if (status !== 200) throw PortmapError.http(`${action} returned HTTP ${status}`, { status })
  const response = xmlElements(body, `${action}Response`)[0]
  if (response === undefined) throw PortmapError.malformed('upnp', `no ${action}Response element`)
  return xmlLeaves(response)
}

function faultError(action: string, fault: string): PortmapError {
  const code = Number(xmlText(fault, 'errorCode'))
  if (!Number.isInteger(code)) return PortmapError.malformed('upnp', `${action} fault without errorCode`)
  return PortmapError.soapFault(action, code, xmlText(fault, 'errorDescription') ?? '')
}

function parseUrl(text: string | undefined, base: URL): URL | null {
  if (!text || !URL.canParse(text, base.href)) return null
  const url = new URL(text, base)
  return url.protocol === 'http:' ? url : null
}
